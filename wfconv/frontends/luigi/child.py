"""The part of the Luigi frontend that runs in a child process.

Luigi's graph is code: ``requires()`` depends on parameter values, so the
faithful reading is to import the user's module and ask the tasks. That
executes the user's module, so it happens here, in a separate interpreter that
the parent (``wfconv.frontends.luigi``) starts with a timeout and kills when it
overruns. This module knows nothing about the IR: it prints one JSON document
describing task instances and their requirements; the parent builds the IR.

Protocol: a JSON request on stdin ``{"path", "roots", "params", "max_tasks"}``;
one JSON answer on stdout. Whatever the user's module prints goes to stderr so
it cannot corrupt the answer.

Answer: ``{"ok": true, "module_file", "module_name", "classes": [...],
"walks": [{"root": task_id, "instances": {task_id: description}}], "notes":
[...]}``; or ``{"ok": false, "stage", "error", "line"}``, where stage is
``syntax``/``import``/``walk`` (the parent then reads the module statically)
or ``options`` (a bad ``--root``/``--param``: an input error).
"""

from __future__ import annotations

import ast
import datetime
import enum
import importlib.util
import inspect
import json
import os
import sys
import textwrap
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any

MAX_TASKS = 5000


# ---------------------------------------------------------------------------
# loading the module


def importable_name(path: Path) -> tuple[Path, str]:
    """(folder for sys.path, dotted module name). A module inside packages
    (folders with ``__init__.py``) is imported as ``pkg.sub.module`` from the
    folder above the top package, as ``python -m pkg.sub.module`` would, so
    that its relative imports work; any other module by its stem from its own
    folder."""
    parts = [path.stem]
    folder = path.parent
    while (folder / "__init__.py").is_file() and folder.parent != folder:
        parts.insert(0, folder.name)
        folder = folder.parent
    if not all(p.isidentifier() for p in parts):
        return path.parent, path.stem
    return folder, ".".join(parts)


def _alias(name: str) -> str:
    return "_wfconv_user_" + "".join(c if c.isalnum() else "_" for c in name)


def _error_line(exc: BaseException, path: Path) -> int | None:
    """Line of the user's file where the import failed (innermost frame there)."""
    if isinstance(exc, SyntaxError) and exc.filename and Path(exc.filename) == path:
        return exc.lineno
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename and Path(frame.filename).resolve() == path:
            line = frame.lineno
    return line


def _import_error_text(exc: BaseException) -> str:
    """The exception in one line, without the installation path Python adds to
    ``cannot import name ... (path)`` (it would differ between machines)."""
    text = str(exc)
    where = getattr(exc, "path", None)
    if isinstance(exc, ImportError) and where:
        text = text.replace(f" ({where})", "")
    return f"{type(exc).__name__}: {text}"


def load_module(path: Path):
    """Import the user's module (this executes it) under the name it would
    have when run, unless that name is taken by a module already loaded
    (a file called ``json.py`` or ``luigi.py``)."""
    folder, dotted = importable_name(path)
    sys.path.insert(0, str(folder))
    top = dotted.split(".")[0]
    if "." in dotted and top not in sys.modules:
        module = importlib.import_module(dotted)
        if Path(getattr(module, "__file__", "") or "").resolve() == path:
            return module, dotted
    name = dotted if dotted.isidentifier() and dotted not in sys.modules else _alias(dotted)
    if path.parent != folder:
        sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module, dotted


def disarm(luigi, path: Path, notes: list[dict[str, Any]]) -> None:
    """Reading a module must not run its pipeline: ``luigi.build``/``luigi.run``
    called while it is imported (outside ``if __name__ == "__main__"``) only
    leave a note."""
    import luigi.interface

    def fake(name: str):
        def call(*args, **kwargs):
            frame = sys._getframe(1)
            line = frame.f_lineno if Path(frame.f_code.co_filename).resolve() == path else None
            notes.append({"code": "build_call", "error": name, "line": line})
            return True

        return call

    luigi.build = luigi.interface.build = fake("luigi.build")
    luigi.run = luigi.interface.run = fake("luigi.run")


# ---------------------------------------------------------------------------
# describing classes and instances


_CLASS_DEFS: dict[str, list[ast.ClassDef]] = {}


def _class_defs(file: str) -> list[ast.ClassDef]:
    if file not in _CLASS_DEFS:
        try:
            tree = ast.parse(Path(file).read_text(encoding="utf-8"))
        except (OSError, SyntaxError, ValueError):
            tree = ast.Module(body=[], type_ignores=[])
        _CLASS_DEFS[file] = [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]
    return _CLASS_DEFS[file]


def _class_line(cls, file: str) -> int | None:
    """The line of ``class Name`` (as the static reader reports it). Two
    classes of one name in a file (other namespaces) are told apart by the
    lines of their own methods; ``inspect`` would answer the first for both."""
    defs = [n for n in _class_defs(file) if n.name == cls.__name__]
    if len(defs) > 1:
        own = [
            v.__code__.co_firstlineno
            for v in vars(cls).values()
            if inspect.isfunction(v) and v.__code__.co_filename == file
        ]
        for node in defs:
            if any(node.lineno <= line <= (node.end_lineno or node.lineno) for line in own):
                return node.lineno
    return defs[0].lineno if defs else None


def _source_of(obj) -> tuple[str | None, int | None]:
    try:
        file = inspect.getsourcefile(obj)
        _, line = inspect.getsourcelines(obj)
    except (OSError, TypeError):
        return None, None
    if file and inspect.isclass(obj):
        line = _class_line(obj, file) or line
    return (str(Path(file).resolve()) if file else None), line


def _kind(luigi, obj) -> str:
    """external / wrapper / normal, as Luigi itself decides (ExternalTask and
    ``externalize`` set ``run = None``, on a class or on one instance)."""
    cls = obj if inspect.isclass(obj) else type(obj)
    if issubclass(cls, luigi.WrapperTask):
        return "wrapper"
    if getattr(obj, "run", None) is None:
        return "external"
    return "normal"


_PLAIN_BASES = ("luigi.task.Task", "luigi.task.WrapperTask", "luigi.task.ExternalTask")


def _library_base(luigi, cls) -> str | None:
    """The first base class not written in the user's module, when it is more
    than Luigi's plain Task/WrapperTask/ExternalTask (``luigi.contrib.hive.
    HiveQueryTask``): what the task inherits its run() from."""
    for base in cls.__mro__[1:]:
        if base.__module__ == cls.__module__ or not issubclass(base, luigi.Task):
            continue
        name = f"{base.__module__}.{base.__qualname__}"
        return None if name in _PLAIN_BASES else name
    return None


def _dynamic_yields(cls) -> list[int]:
    """Lines of ``yield`` inside the ``run()`` the class uses (its own or the
    nearest inherited one): dynamic dependencies, found with ast."""
    run = next((c.__dict__["run"] for c in cls.__mro__ if "run" in c.__dict__), None)
    if run is None or not inspect.isgeneratorfunction(run):
        return []
    try:
        lines, start = inspect.getsourcelines(run)
        tree = ast.parse(textwrap.dedent("".join(lines)))
    except (OSError, TypeError, SyntaxError):
        return []
    out = []
    func = tree.body[0] if tree.body else None
    stack = list(getattr(func, "body", []))
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            out.append(start + node.lineno - 1)
        stack.extend(ast.iter_child_nodes(node))
    return sorted(set(out))


def _is_self_call(stmt: ast.stmt, name: str) -> ast.Call | None:
    """``self.<name>(...)`` as a statement of its own."""
    call = stmt.value if isinstance(stmt, ast.Expr) else None
    if (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and call.func.attr == name
        and isinstance(call.func.value, ast.Name)
        and call.func.value.id == "self"
    ):
        return call
    return None


def _runs_a_shell(fn: ast.AST | None) -> bool:
    """The method hands its command to a shell (a call with ``shell=True``)."""
    return fn is not None and any(
        isinstance(n, ast.keyword)
        and n.arg == "shell"
        and isinstance(n.value, ast.Constant)
        and n.value.value is True
        for n in ast.walk(fn)
    )


def _writes_output(fn: ast.AST | None) -> bool:
    """The method opens the task's own output (``self.output()``)."""
    return fn is not None and any(
        isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute)
        and n.func.attr == "output"
        and isinstance(n.func.value, ast.Name)
        and n.func.value.id == "self"
        for n in ast.walk(fn)
    )


def _shell_fields(call: ast.Call) -> dict[str, Any] | None:
    """``self.shell("cmd", env={...}, cwd="...")`` with literal values only."""
    if len(call.args) != 1 or not isinstance(call.args[0], ast.Constant):
        return None
    command = call.args[0].value
    if not isinstance(command, str):
        return None
    out: dict[str, Any] = {"command": command}
    for kw in call.keywords:
        try:
            value = ast.literal_eval(kw.value) if kw.arg in ("env", "cwd", "replace_env") else None
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            return None
        if kw.arg == "replace_env" and isinstance(value, bool):
            if value:
                out["env_replace"] = True
        elif (
            kw.arg == "env"
            and isinstance(value, dict)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())
        ):
            out["env"] = value
        elif kw.arg == "cwd" and isinstance(value, str):
            out["cwd"] = value
        else:
            return None
    return out


def _text_arg(node: ast.AST) -> str | None:
    """A literal string, or ``self.render("literal")`` (templates rendered at run time)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "render"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "self"
        and len(node.args) == 1
        and not node.keywords
    ):
        return _text_arg(node.args[0])
    return None


def _email_fields(stmts: list[ast.stmt]) -> dict[str, Any] | None:
    """``[import luigi.notifications]`` then
    ``luigi.notifications.send_email(subject, message, sender, recipients)``
    with literal subject, message and recipients: an email action."""
    rest = [s for s in stmts if not isinstance(s, (ast.Import, ast.ImportFrom))]
    if len(rest) != 1 or not isinstance(rest[0], ast.Expr):
        return None
    call = rest[0].value
    if not isinstance(call, ast.Call) or call.keywords or len(call.args) != 4:
        return None
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if name != "send_email":
        return None
    subject, message = _text_arg(call.args[0]), _text_arg(call.args[1])
    try:
        to = ast.literal_eval(call.args[3])
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    to = [to] if isinstance(to, str) else to
    if (
        subject is None
        or message is None
        or not isinstance(to, (list, tuple))
        or not all(isinstance(x, str) for x in to)
    ):
        return None
    return {"to": list(to), "subject": subject, "body": message}


def _raised_message(stmt: ast.stmt) -> str | None:
    """``raise SomeError("literal")`` (or without a message): the text."""
    exc = stmt.exc if isinstance(stmt, ast.Raise) and stmt.cause is None else None
    if isinstance(exc, ast.Call) and isinstance(exc.func, (ast.Name, ast.Attribute)):
        if not exc.args and not exc.keywords:
            return ""
        if (
            len(exc.args) == 1
            and not exc.keywords
            and isinstance(exc.args[0], ast.Constant)
            and isinstance(exc.args[0].value, str)
        ):
            return exc.args[0].value
    return None


def run_action(run: ast.AST | None, method) -> dict[str, Any] | None:
    """What a ``run()`` does, when its body is simple enough to say without
    running it (read with ast, the same way in both reading modes):

    - only ``raise Error("message")``: the task always fails (``fail``);
    - only ``self.mark_done()``, where ``mark_done`` writes the task's output:
      nothing but completion (``empty``);
    - ``self.shell("literal command", env=..., cwd=...)`` then
      ``self.mark_done()``, where ``shell`` runs its command with
      ``shell=True``: a ``shell`` action with that command;
    - ``luigi.notifications.send_email(...)`` with literal texts and
      recipients, then ``self.mark_done()``: an ``email`` action.

    ``method(name)`` gives the ast of the method the class resolves ``name``
    to (None when it has none). Any other body: None (a Python action)."""
    if not isinstance(run, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    body = [
        s
        for s in run.body
        if not isinstance(s, ast.Pass)
        and not (
            isinstance(s, ast.Expr)
            and isinstance(s.value, ast.Constant)
            and isinstance(s.value.value, str)
        )
    ]
    if len(body) == 1:
        message = _raised_message(body[0])
        if message is not None:
            return {"kind": "fail", "message": message}
    if not body or _is_self_call(body[-1], "mark_done") is None:
        return None
    done = body[-1].value
    if done.args or done.keywords or not _writes_output(method("mark_done")):
        return None
    if len(body) == 1:
        return {"kind": "empty"}
    email = _email_fields(body[:-1])
    if email is not None:
        return {"kind": "email", **email}
    call = _is_self_call(body[0], "shell") if len(body) == 2 else None
    if call is None or not _runs_a_shell(method("shell")):
        return None
    fields = _shell_fields(call)
    return None if fields is None else {"kind": "shell", **fields}


def _method_node(cls, name: str) -> ast.AST | None:
    """The ast of the method ``name`` as ``cls`` resolves it (nearest in the MRO)."""
    fn = next((c.__dict__[name] for c in cls.__mro__ if name in c.__dict__), None)
    fn = getattr(fn, "__func__", fn)
    if not inspect.isfunction(fn):
        return None
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError, ValueError):
        return None
    return tree.body[0] if tree.body else None


def _run_action_of(cls) -> dict[str, Any] | None:
    try:
        return run_action(_method_node(cls, "run"), lambda name: _method_node(cls, name))
    except RecursionError:
        return None


def json_value(value: Any, param) -> Any:
    """A parameter value as JSON: native scalars and containers stay as they
    are; anything else (dates, intervals, enums, task classes) is Luigi's own
    serialisation, the text ``--param`` would accept."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (datetime.date, datetime.datetime, datetime.timedelta, enum.Enum)):
        return param.serialize(value)
    if isinstance(value, Mapping):
        try:
            return json.loads(param.serialize(value))
        except (TypeError, ValueError):
            return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        try:
            return json.loads(param.serialize(value))
        except (TypeError, ValueError):
            return [plain(v) for v in value]
    return param.serialize(value)


def plain(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return str(value)


def _params(task) -> list[dict[str, Any]]:
    out = []
    for name, param in task.get_params():
        value = task.param_kwargs.get(name)
        try:
            text = param.serialize(value)
        except Exception:  # a user Parameter subclass may not serialise None
            text = str(value)
        try:
            as_json = json_value(value, param)
        except Exception:
            as_json = text
        out.append(
            {
                "name": name,
                "type": type(param).__name__,
                "significant": bool(param.significant),
                "value": as_json,
                "text": text,
            }
        )
    return out


def _task_id(task) -> str:
    return task.task_id


def _target(target) -> dict[str, Any]:
    out: dict[str, Any] = {"class": type(target).__name__}
    path = getattr(target, "path", None)
    if isinstance(path, str):
        out["path"] = path
    return out


_USER_FILE: list[Path] = []  # the module being read (set by run())


def _call(fn):
    """Run a user method; (value, None) or (None, (error text, line)). The
    line is the innermost one in the user's module, else the innermost one."""
    try:
        return fn(), None
    except Exception as exc:  # user code: anything can happen
        frames = traceback.extract_tb(exc.__traceback__)
        mine = [f for f in frames if _USER_FILE and Path(f.filename).resolve() == _USER_FILE[0]]
        line = (mine or frames)[-1].lineno if frames else None
        return None, (f"{type(exc).__name__}: {exc}", line)


def _shape(luigi, raw) -> dict[str, Any]:
    """How ``requires()`` spelled its answer (a backend re-emitting Luigi keeps
    ``self.input()['key']`` working): task, list, dict (key -> task ids),
    generator, none."""
    if raw is None or (isinstance(raw, (list, tuple, Mapping)) and not raw):
        return {"shape": "none"}
    if isinstance(raw, luigi.Task):
        return {"shape": "task"}
    if isinstance(raw, Mapping):
        keys = {}
        for k, v in raw.items():
            keys[str(k)] = [t.task_id for t in luigi.task.flatten(v) if isinstance(t, luigi.Task)]
        return {"shape": "dict", "keys": keys}
    if isinstance(raw, (list, tuple)):
        return {"shape": "list"}
    if inspect.isgenerator(raw):
        return {"shape": "generator"}
    return {"shape": type(raw).__name__}


def tree(raw, is_leaf, leaf):
    """``raw`` as JSON in the shape Luigi's ``getpaths`` keeps (a dict stays
    a dict, a list or tuple a list) with each leaf replaced by ``leaf(x)``;
    None when it holds anything else (a generator, a string)."""
    if is_leaf(raw):
        return leaf(raw)
    if isinstance(raw, Mapping):
        items = {str(k): tree(v, is_leaf, leaf) for k, v in raw.items()}
        return None if None in items.values() else items
    if isinstance(raw, (list, tuple)):
        out = [tree(v, is_leaf, leaf) for v in raw]
        return None if None in out else out
    return None


_CLASS_FACTS: dict[type, dict[str, Any]] = {}


def _class_facts(luigi, cls) -> dict[str, Any]:
    """What is the same for every instance of a class (read once: inspect and
    ast are slow next to a walk of thousands of instances)."""
    if cls not in _CLASS_FACTS:
        file, line = _source_of(cls)
        _CLASS_FACTS[cls] = {
            "class": cls.__name__,
            "namespace": cls.get_task_namespace() or None,
            "module": cls.__module__,
            "base": _library_base(luigi, cls),
            "file": file,
            "line": line,
            "doc": inspect.getdoc(cls) if cls.__doc__ else None,
            "run_yields": _dynamic_yields(cls),
            "run_action": _run_action_of(cls),
            # the root WrapperTask wfconv's Luigi backend adds (not a task of the workflow)
            "wfconv_root": getattr(cls, "wfconv_root", False) is True,
        }
    return _CLASS_FACTS[cls]


_SETTINGS = {
    "retry_count": lambda t: t.retry_count,
    "worker_timeout": lambda t: t.worker_timeout,
    "priority": lambda t: t.priority,
    "resources": lambda t: plain(t.process_resources()),
    "disable_window": lambda t: t.disable_window,
    "owner_email": lambda t: plain(t.owner_email),
}


def describe(luigi, task, notes: list[dict[str, Any]]) -> tuple[dict[str, Any], list]:
    """One instance as JSON, and the instances it requires."""
    cls = type(task)
    facts = _class_facts(luigi, cls)
    line = facts["line"]
    info: dict[str, Any] = {
        "task_id": task.task_id,
        "family": task.get_task_family(),
        **facts,
        "kind": _kind(luigi, task),
        "params": _params(task),
        "requires": {"shape": "none"},
        "deps": [],
        "outputs": [],
    }
    for name, read in _SETTINGS.items():
        value, err = _call(lambda read=read: read(task))
        info[name] = value
        if err is not None:
            notes.append(
                {
                    "code": "setting",
                    "task_id": task.task_id,
                    "error": f"{name}: {err[0]}",
                    "line": err[1],
                }
            )
    raw, err = _call(task.requires)
    deps: list = []
    if err is None:
        # The shape is read without consuming a generator; deps() asks again.
        info["requires"] = _shape(luigi, raw)
        info["requires_tree"] = tree(raw, lambda t: isinstance(t, luigi.Task), _task_id)
        deps, err = _call(task.deps)
    if err is not None:
        notes.append({"code": "requires", "task_id": task.task_id, "error": err[0], "line": err[1]})
        deps = []
    good = []
    for d in deps:
        if isinstance(d, luigi.Task):
            good.append(d)
        else:
            notes.append(
                {
                    "code": "not_a_task",
                    "task_id": task.task_id,
                    "error": f"requires() returned {type(d).__name__} {d!r}, not a Task",
                    "line": line,
                }
            )
    info["deps"] = [d.task_id for d in good]
    raw, err = _call(task.output)
    if err is not None:
        notes.append({"code": "output", "task_id": task.task_id, "error": err[0], "line": err[1]})
    else:
        info["outputs"] = [_target(t) for t in luigi.task.flatten(raw)]
        info["output_tree"] = tree(raw, lambda t: isinstance(t, luigi.Target), _target)
    return info, good


def walk(luigi, root, instances: dict[str, Any], notes: list, max_tasks: int, objects=None) -> None:
    """Depth-first from ``root`` through ``deps()``; every distinct instance
    (Luigi's task_id = family + significant parameters) once. ``objects``
    (task_id -> instance) collects the instances themselves."""
    stack = [root]
    while stack:
        task = stack.pop()
        if task.task_id in instances:
            continue
        if len(instances) >= max_tasks:
            notes.append({"code": "too_many", "task_id": root.task_id, "error": str(max_tasks)})
            return
        info, deps = describe(luigi, task, notes)
        instances[task.task_id] = info
        if objects is not None:
            objects[task.task_id] = task
        stack.extend(reversed(deps))


# ---------------------------------------------------------------------------
# FAILURE event handlers (read with ast, the same way in both modes)


def _is_failure_event(node: ast.AST) -> bool:
    """``luigi.Event.FAILURE`` / ``Event.FAILURE``."""
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "FAILURE"
        and isinstance(node.value, (ast.Attribute, ast.Name))
        and (node.value.attr if isinstance(node.value, ast.Attribute) else node.value.id) == "Event"
    )


def failure_handlers(tree: ast.Module) -> dict[str, list[str]]:
    """Module-level functions registered with ``@Cls.event_handler(
    luigi.Event.FAILURE)``: class name -> the names the function uses, in
    source order (the task classes among them are what the failure starts)."""
    out: dict[str, list[str]] = {}
    for node in tree.body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for dec in node.decorator_list:
            if not (
                isinstance(dec, ast.Call)
                and isinstance(dec.func, ast.Attribute)
                and dec.func.attr == "event_handler"
                and isinstance(dec.func.value, ast.Name)
                and len(dec.args) == 1
                and _is_failure_event(dec.args[0])
            ):
                continue
            names = sorted(
                (n for stmt in node.body for n in ast.walk(stmt) if isinstance(n, ast.Name)),
                key=lambda n: (n.lineno, n.col_offset),
            )
            found = out.setdefault(dec.func.value.id, [])
            for n in names:
                if n.id not in found:
                    found.append(n.id)
    return out


def module_tree(path: Path) -> ast.Module:
    try:
        return ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError, UnicodeDecodeError):
        return ast.Module(body=[], type_ignores=[])


def handler_params(own: list[str], failed: dict[str, Any], failed_id: str) -> dict[str, Any]:
    """The parameters a handler class gets from the failed task: those of the
    same name, and ``failed_task`` (the failed task's id, as wfconv's backend
    passes it) when the handler has one."""
    values = {n: failed[n] for n in own if n in failed}
    if "failed_task" in own and "failed_task" not in values:
        values["failed_task"] = failed_id
    return values


def walk_failure_handlers(luigi, classes, objects, instances, handlers, notes, max_tasks):
    """Add the task classes a FAILURE handler of a walked task names (and
    what they require) to the walk; returns [upstream task_id, handler
    task_id] pairs."""
    by_name = {c.__name__: c for c in classes}
    pairs: list[list[str]] = []
    todo = list(instances)
    seen: set[str] = set()
    while todo:
        tid = todo.pop(0)
        task = objects.get(tid)
        if tid in seen or task is None:
            continue
        seen.add(tid)
        for base in type(task).__mro__:
            for name in handlers.get(base.__name__, []):
                cls = by_name.get(name)
                if cls is None or base.__module__ != type(task).__module__:
                    continue
                own = [n for n, _ in cls.get_params()]
                values = handler_params(own, task.param_kwargs, task.task_id)
                made, err = _call(lambda cls=cls, values=values: cls(**values))
                if err is not None:
                    notes.append(
                        {
                            "code": "handler",
                            "task_id": tid,
                            "error": f"{name}: {err[0]}",
                            "line": _source_of(cls)[1],
                        }
                    )
                    continue
                before = set(instances)
                walk(luigi, made, instances, notes, max_tasks, objects)
                pairs.append([tid, made.task_id])
                todo.extend(t for t in instances if t not in before)
    return pairs


# ---------------------------------------------------------------------------
# roots


def module_classes(luigi, module) -> list[type]:
    """Task classes defined in the module itself, in source order. Luigi's
    registry is asked (not the module's namespace) so that a class whose name a
    later class reuses (same name, other namespace) is still found."""
    registered = getattr(luigi.task_register.Register, "_reg", None)
    pool = list(registered) if registered is not None else list(vars(module).values())
    pool += list(vars(module).values())
    found: list[type] = []
    for obj in pool:
        if (
            inspect.isclass(obj)
            and issubclass(obj, luigi.Task)
            and not issubclass(obj, luigi.Config)  # configuration sections, not tasks
            and obj.__module__ == module.__name__
            and obj not in found
        ):
            found.append(obj)
    return sorted(found, key=lambda c: _source_of(c)[1] or 0)


def _class_info(luigi, cls) -> dict[str, Any]:
    file, line = _source_of(cls)
    return {
        "class": cls.__name__,
        "family": cls.get_task_family(),
        "line": line,
        "kind": _kind(luigi, cls),
        "params": [name for name, _ in cls.get_params()],
    }


def _matches(cls, name: str) -> bool:
    return name in (cls.__name__, cls.get_task_family())


def instantiate(cls, params: dict[str, str]):
    """``cls`` from its defaults plus the ``--param`` values it knows
    (parsed by the parameters themselves, exactly like Luigi's command line)."""
    own = {name for name, _ in cls.get_params()}
    return cls.from_str_params({k: v for k, v in params.items() if k in own})


def _why_not_instantiable(luigi, cls, params: dict[str, str], exc: Exception) -> str:
    if isinstance(exc, luigi.parameter.MissingParameterException):
        family = cls.get_task_family()
        missing = [
            name
            for name, p in cls.get_params()
            if name not in params and not p.has_task_value(family, name)
        ]
        if missing:
            return "no value for " + ", ".join(repr(m) for m in missing)
    return f"{type(exc).__name__}: {exc}"


def choose_roots(luigi, classes, request, notes) -> list:
    params = request.get("params") or {}
    wanted = request.get("roots") or []
    if wanted:
        chosen = []
        for name in wanted:
            match = [c for c in classes if _matches(c, name)]
            if not match:
                reg = luigi.task_register.Register
                try:
                    match = [reg.get_task_cls(name)]
                except Exception:
                    match = []
            if not match:
                raise LookupError(
                    f"--root {name}: no such task class in the module "
                    f"(known: {', '.join(c.__name__ for c in classes) or 'none'})"
                )
            chosen.append(match[0])
        candidates = chosen
    else:
        # A base class other module classes extend is a template, not a root.
        bases = {b for c in classes for b in c.__mro__[1:] if b in classes}
        for b in sorted(bases, key=lambda c: _source_of(c)[1] or 0):
            notes.append({"code": "base_class", "class": b.__name__, "line": _source_of(b)[1]})
        candidates = [c for c in classes if c not in bases]
    known = {name for c in candidates for name, _ in c.get_params()}
    for k in params:
        if k not in known:
            raise LookupError(
                f"--param {k}: no root task has a parameter {k!r} "
                f"(parameters: {', '.join(sorted(known)) or 'none'})"
            )
    made: list = []
    for cls in candidates:
        try:
            task = instantiate(cls, params)
            if all(task.task_id != m.task_id for m in made):  # --root X --root X
                made.append(task)
        except Exception as exc:
            why = _why_not_instantiable(luigi, cls, params, exc)
            if wanted:
                raise LookupError(f"--root {cls.__name__}: cannot be instantiated: {why}") from None
            notes.append(
                {
                    "code": "not_instantiable",
                    "class": cls.__name__,
                    "line": _source_of(cls)[1],
                    "error": why,
                }
            )
    return made


def _requires_names(cls) -> set[str]:
    """Names used inside ``cls.requires`` (read with ast)."""
    fn = cls.__dict__.get("requires")
    if fn is None:
        return set()
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return set()
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}


def _statically_required(classes, notes, walks) -> set[str]:
    """Families named in the requires() of classes that could not be walked
    (not instantiable, or requires() raised): their graph is unknown, but what
    they name is still not a root."""
    skipped = {n["class"] for n in notes if n["code"] == "not_instantiable"}
    for n in notes:
        if n["code"] == "requires":
            for w in walks:
                if n["task_id"] in w["instances"]:
                    skipped.add(w["instances"][n["task_id"]]["class"])
    by_name = {c.__name__: c for c in classes}
    out: set[str] = set()
    for cls in classes:
        if cls.__name__ in skipped:
            for name in _requires_names(cls):
                if name in by_name and name != cls.__name__:
                    out.add(by_name[name].get_task_family())
    return out


def _drop_handler_root_notes(walks: list[dict[str, Any]], notes: list[dict[str, Any]]) -> None:
    """A class read as a FAILURE handler is not a root that failed to build."""
    used = {w["instances"][h]["class"] for w in walks for _, h in w.get("handlers", [])}
    notes[:] = [n for n in notes if not (n["code"] == "not_instantiable" and n["class"] in used)]


def run(request: dict[str, Any]) -> dict[str, Any]:
    path = Path(request["path"]).resolve()
    _USER_FILE[:] = [path]
    import luigi
    import luigi.task
    import luigi.task_register

    notes: list[dict[str, Any]] = []
    disarm(luigi, path, notes)
    try:
        module, module_name = load_module(path)
    except SyntaxError as exc:
        return {
            "ok": False,
            "stage": "syntax",
            "error": f"{type(exc).__name__}: {exc.msg}",
            "line": exc.lineno,
        }
    except BaseException as exc:  # SystemExit from a user module counts too
        return {
            "ok": False,
            "stage": "import",
            "error": _import_error_text(exc),
            "line": _error_line(exc, path),
        }
    classes = module_classes(luigi, module)
    try:
        roots = choose_roots(luigi, classes, request, notes)
    except LookupError as exc:
        return {"ok": False, "stage": "options", "error": str(exc), "line": None}
    max_tasks = int(request.get("max_tasks") or MAX_TASKS)
    handlers = failure_handlers(module_tree(path))
    walks = []
    for root in roots:
        instances: dict[str, Any] = {}
        objects: dict[str, Any] = {}
        walk(luigi, root, instances, notes, max_tasks, objects)
        pairs = walk_failure_handlers(
            luigi, classes, objects, instances, handlers, notes, max_tasks
        )
        walks.append({"root": root.task_id, "instances": instances, "handlers": pairs})
    _drop_handler_root_notes(walks, notes)
    if not request.get("roots"):
        # Auto roots: drop those another class requires (seen while walking,
        # or named in the requires() of a class that could not be walked).
        required = _statically_required(classes, notes, walks)
        for w in walks:
            for info in w["instances"].values():
                for dep in info["deps"]:
                    dep_info = w["instances"].get(dep)
                    if dep_info and dep_info["family"] != info["family"]:
                        required.add(dep_info["family"])
        walks = [w for w in walks if w["instances"][w["root"]]["family"] not in required]
    return {
        "ok": True,
        "module_file": str(path),
        "module_name": module_name,
        "classes": [_class_info(luigi, c) for c in classes],
        "walks": walks,
        "notes": notes,
    }


def main() -> int:
    sys.dont_write_bytecode = True  # leave no __pycache__ beside the user's file
    request = json.loads(sys.stdin.read())
    # The answer goes to the real stdout; the user's prints go to stderr.
    answer_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    try:
        answer = run(request)
    except BaseException as exc:  # never a traceback instead of an answer
        answer = {
            "ok": False,
            "stage": "walk",
            "error": f"{type(exc).__name__}: {exc}",
            "line": None,
        }
    with os.fdopen(answer_fd, "w", encoding="utf-8") as out:
        out.write(json.dumps(answer, default=str))
    sys.stderr.flush()
    # Leave now: threads the module started must not keep the process (and
    # the parent waiting for it) alive after the answer is written.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
