"""A Luigi task's ``run()`` as a plain function that needs neither Luigi nor
the task's module (docs/output.md, "Standalone Luigi output").

Read from the module's text and never imported: ``ast`` decides whether the
body can be rewritten, libcst rewrites it keeping the user's comments and
layout. ``self.<param>`` becomes a parameter of the function, ``self.output()``
the path(s) the reader evaluated (``output``, in the shape ``output()``
returns), ``self.input()`` the upstream paths in the shape ``requires()``
returns (``inputs``); on those, ``.open()`` becomes ``open(path)``, ``.path``
the path, ``.exists()`` ``os.path.exists(path)``. A ``with target.open("w")``
block writes a ``-tmp`` file renamed over the path when the block ends, as
Luigi's LocalTarget does (a failed run leaves no partial output), after
creating the parent folder. The function starts by returning when every output
exists (Luigi's default ``complete()``). Module-level imports and literal
constants the body reads are carried inside it, so the function is
self-contained (``backends.common.function_source`` finds no free names).

Anything else (``self.<method>``, ``luigi.*``, a target other than
LocalTarget, ``yield`` in ``run()``, an overridden ``complete()``, ...) keeps
today's form: the task names its class and module, and the reason is kept in
``extra.luigi.not_standalone`` for the writers' warning.
"""

from __future__ import annotations

import ast
import functools
import re
import sys
from dataclasses import dataclass, field
from typing import Any

import libcst as cst

from wfconv.backends.common import function_source
from wfconv.ir.model import Workflow

# Parameter types whose IR value is the value run() sees in Luigi.
_PLAIN_PARAMS = {
    "Parameter",
    "OptionalParameter",
    "IntParameter",
    "FloatParameter",
    "BoolParameter",
    "ChoiceParameter",
    "OptionalIntParameter",
    "OptionalFloatParameter",
    "OptionalBoolParameter",
}
_READ_MODES = ("r", "rb")
_WRITE_MODES = ("w", "wb")
INPUTS = "inputs"
OUTPUT = "output"


class NotStandalone(Exception):
    """Why a run() keeps needing Luigi (the message names what it needs)."""


@dataclass
class Module:
    """What the module's top level offers a function: import statements and
    literal constants, by the name they bind; its classes by name."""

    text: str
    imports: dict[str, str] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    classes: dict[str, list[ast.ClassDef]] = field(default_factory=dict)
    _cst: dict[int, cst.ClassDef] = field(default_factory=dict)

    @classmethod
    def read(cls, text: str) -> Module:
        tree = ast.parse(text)
        m = cls(text)
        bound: dict[str, int] = {}
        for node in tree.body:
            for name in _bound_names(node):
                bound[name] = bound.get(name, 0) + 1
        for node in tree.body:
            if isinstance(node, ast.Import):
                for a in node.names:
                    name = a.asname or a.name.split(".")[0]
                    m.imports[name] = f"import {a.name}" + (f" as {a.asname}" if a.asname else "")
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for a in node.names:
                    if a.name != "*":
                        m.imports[a.asname or a.name] = f"from {node.module} import {a.name}" + (
                            f" as {a.asname}" if a.asname else ""
                        )
            elif (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
                and bound[node.targets[0].id] == 1
                and node.lineno == node.end_lineno  # one line: it keeps its layout inside
                and _literal(node.value)
            ):
                m.constants[node.targets[0].id] = ast.get_source_segment(text, node) or ""
            elif isinstance(node, ast.ClassDef):
                m.classes.setdefault(node.name, []).append(node)
        for name in [n for n, c in bound.items() if c > 1]:
            m.imports.pop(name, None)
        return m

    def cst_class(self, node: ast.ClassDef) -> cst.ClassDef:
        """The class as libcst reads it (its own lines only: a large module
        is not parsed twice whole)."""
        if node.lineno not in self._cst:
            lines = self.text.splitlines(keepends=True)[node.lineno - 1 : node.end_lineno]
            (parsed,) = cst.parse_module("".join(lines)).body
            assert isinstance(parsed, cst.ClassDef)
            self._cst[node.lineno] = parsed
        return self._cst[node.lineno]


def _bound_names(node: ast.stmt) -> list[str]:
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return [a.asname or a.name.split(".")[0] for a in node.names]
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    out = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
            out.append(sub.id)
    return out


def _literal(node: ast.expr) -> bool:
    try:
        ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False
    return True


@dataclass
class Plan:
    """One class's function: its text, and what a call passes."""

    name: str
    text: str
    inputs: bool
    params: list[str]
    output: bool
    path_params: list[str]  # parameters output() or requires() read


# ---------------------------------------------------------------------------
# entry point


def attach(
    w: Workflow,
    text: str,
    instances: dict[str, dict[str, Any]],
    ids: dict[str, str],
    module_file: str | None,
) -> None:
    """Give every python task of ``w`` whose class is defined in ``text`` its
    standalone function (``source_code``, the call's keyword arguments in
    ``extra.luigi.run_kwargs``), or the reason it has none
    (``extra.luigi.not_standalone``)."""
    try:
        module = _read(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return
    luigi_id = {v: k for k, v in ids.items()}
    plans: dict[tuple[Any, ...], Plan | str] = {}
    names: dict[str, str] = {}  # function name -> its text (one text per name)
    moved_by: dict[str, set[str]] = {}  # Luigi task id -> parameters its paths depend on
    for task in w.tasks:
        info = instances.get(luigi_id.get(task.id, ""))
        lx = task.extra.get("luigi") if isinstance(task.extra, dict) else None
        if info is None or not isinstance(lx, dict) or task.action.kind != "python":
            continue
        if task.action.fields.get("callable") != f"{info['class']}.run":
            continue
        try:
            own = info.get("file") in (None, module_file)
            if not own:
                raise NotStandalone("its class is defined in another module")
            output = _paths(info.get("output_tree"), "output()")
            key = (info["class"], info.get("line"), _kind(output))
            if key not in plans:
                try:
                    plans[key] = _plan(module, info, _kind(output), names)
                except NotStandalone as exc:
                    plans[key] = str(exc)
                except Exception as exc:  # a construct the rewrite trips over: never a traceback
                    plans[key] = f"run() could not be rewritten ({type(exc).__name__})"
            plan = plans[key]
            if isinstance(plan, str):
                raise NotStandalone(plan)
            kwargs: dict[str, Any] = {}
            if plan.inputs:
                kwargs[INPUTS] = _inputs(info, instances)
            if plan.output:
                kwargs[OUTPUT] = output
            values = {**lx.get("insignificant_params", {}), **task.params}
            for p in plan.params:
                kwargs[p] = values.get(p)
        except NotStandalone as exc:
            lx["not_standalone"] = str(exc)
            continue
        task.action.fields["source_code"] = plan.text
        lx["run_kwargs"] = kwargs
        depends = set(plan.path_params)
        if plan.inputs:  # the paths it reads: its requirements' (upstream: seen before)
            for up in _leaves(info.get("requires_tree")):
                names_of = [p["name"] for p in instances.get(up, {}).get("params", [])]
                depends |= moved_by.get(up, set(names_of))
        moved_by[luigi_id[task.id]] = depends
        if depends:
            lx["path_params"] = sorted(depends)


def _leaves(tree: Any) -> list[str]:
    if isinstance(tree, str):
        return [tree]
    if isinstance(tree, dict):
        return [x for v in tree.values() for x in _leaves(v)]
    if isinstance(tree, list):
        return [x for v in tree for x in _leaves(v)]
    return []


@functools.lru_cache(maxsize=4)
def _read(text: str) -> Module:
    """One reading per module text (a module gives several workflows)."""
    return Module.read(text)


def _kind(tree: Any) -> str:
    if not tree:  # no output() (Luigi's default: []): complete() is never true
        return "none"
    if isinstance(tree, str):
        return "path"
    if isinstance(tree, list) and all(isinstance(v, str) for v in tree):
        return "list"
    if isinstance(tree, dict) and all(isinstance(v, str) for v in tree.values()):
        return "dict"
    raise NotStandalone("output() nests collections of targets")


def _paths(tree: Any, what: str) -> Any:
    """A tree of targets as a tree of paths: LocalTargets with known paths."""
    if tree is None:
        return None
    if isinstance(tree, dict) and "class" in tree and not isinstance(tree.get("class"), dict):
        if tree["class"] != "LocalTarget":
            raise NotStandalone(
                f"{what} gives a {tree['class']} (only LocalTarget is a plain file)"
            )
        if not isinstance(tree.get("path"), str):
            raise NotStandalone(f"the path of a target of {what} is known only at run time")
        return tree["path"]
    if isinstance(tree, dict):
        return {k: _paths(v, what) for k, v in tree.items()}
    if isinstance(tree, list):
        return [_paths(v, what) for v in tree]
    raise NotStandalone(f"{what} is not a target, list or dict of targets")


def _inputs(info: dict[str, Any], instances: dict[str, dict[str, Any]]) -> Any:
    """``self.input()``: each required task replaced by its output paths."""
    req = info.get("requires_tree")
    if req is None and (info.get("requires") or {}).get("shape") not in (None, "none"):
        raise NotStandalone("requires() is a generator or holds other values than tasks")

    def walk(node: Any) -> Any:
        if isinstance(node, str):
            up = instances.get(node)
            if up is None:
                raise NotStandalone(f"the task it requires ({node}) was not read")
            return _paths(up.get("output_tree"), f"{up['class']}.output()")
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items()}
        return [walk(v) for v in node]

    return walk(req) if req is not None else []


# ---------------------------------------------------------------------------
# one class


def _plan(module: Module, info: dict[str, Any], kind: str, names: dict[str, str]) -> Plan:
    if info.get("base"):
        raise NotStandalone(f"it derives from {info['base']}")
    if info.get("run_yields"):
        raise NotStandalone("run() yields tasks (dynamic dependencies)")
    node = next(
        (n for n in module.classes.get(info["class"], []) if n.lineno == info.get("line")), None
    )
    if node is None:
        raise NotStandalone("its class is not a top-level class of the module")
    cst_class = module.cst_class(node)
    methods = {
        n.name: n for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
    }
    bases = _module_bases(module, node)
    if "run" not in methods and bases:
        raise NotStandalone(f"run() is inherited from {bases[0].name}")
    for cls in [node, *bases]:
        if any(
            isinstance(n, (ast.FunctionDef, ast.Assign)) and "complete" in _bound_names(n)
            for n in cls.body
        ):
            raise NotStandalone(f"{cls.name} overrides complete()")
    run = methods.get("run", _DEFAULT_RUN)
    if not isinstance(run, ast.FunctionDef):
        raise NotStandalone("run() is a coroutine")
    params = {p["name"]: p["type"] for p in info.get("params", [])}
    facts = _analyse(run, params)
    cst_run = next(
        (
            n
            for n in cst_class.body.body
            if isinstance(n, cst.FunctionDef) and n.name.value == "run"
        ),
        _DEFAULT_CST_RUN,
    )
    rewriter = _Rewrite(facts)
    body = cst_run.body.visit(rewriter)
    if not isinstance(body, cst.IndentedBlock):
        raise NotStandalone("run() is written on one line")
    doc, statements = _split_doc(list(body.body))
    uses_output = kind != "none"
    arguments = ([INPUTS] if facts.inputs else []) + ([OUTPUT] if uses_output else [])
    arguments += [p for p in params if p in facts.params]
    probe = cst.Module(body=[cst_run.with_changes(body=body.with_changes(body=statements))]).code
    kept = function_source(probe)
    if kept is None:
        raise NotStandalone("run() could not be rewritten")
    free = set(kept.free_names) - set(arguments)
    header: list[str] = []
    imports: set[str] = set()
    if "os" in free or uses_output:
        if module.imports.get("os", "import os") not in ("import os", "import os.path"):
            raise NotStandalone("the module binds os to something else")
        imports.add("import os")
    dates = [p for p in arguments if params.get(p) == "DateParameter"]
    if dates:
        # Luigi parses the IR's text (YYYY-MM-DD) into a date before run()
        if module.imports.get("datetime", "import datetime") != "import datetime":
            raise NotStandalone("the module binds datetime to something else")
        imports.add("import datetime")
        header += [f"{p} = datetime.date.fromisoformat({p})" for p in dates]
    for name in sorted(free - {"os", *(["datetime"] if dates else [])}):
        if name in module.imports:
            line = module.imports[name]
            if re.match(r"(import|from) luigi\b", line):
                raise NotStandalone(f"run() uses {name} (Luigi)")
            imports.add(line)
        elif name in module.constants:
            header.insert(0, module.constants[name])
        else:
            raise NotStandalone(f"run() uses {name} of the module, which is not a plain constant")
    complete = {
        "none": [],
        "path": [f"if os.path.exists({OUTPUT}):"],
        "list": [f"if all(os.path.exists(path) for path in {OUTPUT}):"],
        "dict": [f"if all(os.path.exists(path) for path in {OUTPUT}.values()):"],
    }[kind]
    lines = _import_block(imports)
    if header:
        lines += ["", *header]
    if complete:
        lines += ["", *complete, "    return  # complete: every output exists, as Luigi checks"]
    new_body = [_blank_before(cst.parse_statement(s + "\n")) for s in _statements(lines)]
    if new_body and [_code(st) for st in statements] in (["pass\n"], []):
        statements = []  # run() does nothing (Luigi's own run() when the class has none)
    if new_body and statements:
        statements[0] = _blank_before(statements[0], always=True)
    name = _name(info["class"], names)
    fn = cst_run.with_changes(
        name=cst.Name(name),
        params=cst.Parameters(params=[cst.Param(cst.Name(a)) for a in arguments]),
        body=body.with_changes(
            body=[*doc, *new_body, *statements] or [cst.SimpleStatementLine([cst.Pass()])]
        ),
        decorators=[],
        leading_lines=[],
    )
    text = cst.Module(body=[fn]).code
    names[name] = text
    return Plan(
        name,
        text,
        facts.inputs,
        [p for p in arguments if p in params],
        uses_output,
        _path_params(module, node, info, params),
    )


def _path_params(
    module: Module, node: ast.ClassDef, info: dict[str, Any], params: dict[str, str]
) -> list[str]:
    """The parameters the paths of the class may depend on: those its
    output() and requires() read (all of them when those methods pass self
    on, clone it, come from a decorator or a library class)."""
    if node.decorator_list or info.get("base"):
        return sorted(params)
    read: set[str] = set()
    for name in ("output", "requires"):
        fn = next(
            (
                n
                for c in [node, *_module_bases(module, node)]
                for n in c.body
                if isinstance(n, ast.FunctionDef) and n.name == name
            ),
            None,
        )
        if fn is None or not fn.args.args:
            continue
        me = fn.args.args[0].arg
        for n in ast.walk(fn):
            if isinstance(n, ast.Name) and n.id == me and isinstance(n.ctx, ast.Load):
                continue
            if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == me:
                if n.attr in params:
                    read.add(n.attr)
                elif n.attr not in ("input", "output"):
                    return sorted(params)  # self.clone(), self.task_id, a helper ...
        uses = sum(isinstance(n, ast.Name) and n.id == me for n in ast.walk(fn))
        attrs = sum(
            isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == me
            for n in ast.walk(fn)
        )
        if uses - 1 > attrs:  # self passed on as a whole (the parameter itself counts once)
            return sorted(params)
    return sorted(read)


def _blank_before(stmt: Any, always: bool = False) -> Any:
    """One empty line (without indentation) before ``stmt`` when it had any."""
    if stmt.leading_lines and all(not line.comment for line in stmt.leading_lines) or always:
        keep = [line for line in stmt.leading_lines if line.comment]
        return stmt.with_changes(leading_lines=[cst.EmptyLine(indent=False), *keep])
    return stmt


# luigi.Task's own run(), for a class that defines none: it does nothing.
_DEFAULT_RUN = ast.parse("def run(self):\n    pass\n").body[0]
_DEFAULT_CST_RUN = cst.parse_statement("def run(self):\n    pass\n")


def _statements(lines: list[str]) -> list[str]:
    """Lines (blank lines kept as leading empty lines) grouped into statements."""
    out: list[str] = []
    pending = ""
    for line in lines:
        if not line:
            pending += "\n"
        elif line.startswith(" ") and out:
            out[-1] += "\n" + line
        else:
            out.append(pending + line)
            pending = ""
    return out


def _import_block(imports: set[str]) -> list[str]:
    """isort's order inside the function: standard library, then the rest;
    ``import x`` before ``from x import y`` in each."""

    def top(line: str) -> str:
        return line.split()[1].split(".")[0]

    std = sorted(
        (i for i in imports if top(i) in sys.stdlib_module_names),
        key=lambda i: (i.startswith("from"), i),
    )
    rest = sorted((i for i in imports if i not in std), key=lambda i: (i.startswith("from"), i))
    return std + ([""] if std and rest else []) + rest


def _split_doc(statements: list[Any]) -> tuple[list[Any], list[Any]]:
    first = statements[0] if statements else None
    if (
        isinstance(first, cst.SimpleStatementLine)
        and len(first.body) == 1
        and isinstance(first.body[0], cst.Expr)
        and isinstance(first.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    ):
        return [first], statements[1:]
    return [], statements


def _name(cls: str, names: dict[str, str]) -> str:
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", cls).lower()
    base = f"run_{snake}"
    name, n = base, 1
    while name in names:
        n += 1
        name = f"{base}_{n}"
    return name


def _module_bases(module: Module, node: ast.ClassDef) -> list[ast.ClassDef]:
    """The classes of the module ``node`` derives from (nearest first)."""
    out: list[ast.ClassDef] = []
    stack = [b for b in node.bases if isinstance(b, ast.Name)]
    while stack:
        b = stack.pop(0)
        found = [c for c in module.classes.get(b.id, []) if c.lineno < node.lineno]
        if found and found[-1] not in out:
            out.append(found[-1])
            stack += [x for x in found[-1].bases if isinstance(x, ast.Name)]
    return out


# ---------------------------------------------------------------------------
# what run() does with self and its targets (ast)


@dataclass
class _Facts:
    self_name: str
    params: set[str]  # self.<param> read
    inputs: bool  # self.input() used
    targets: set[str]  # local names bound to targets (or collections of them)


def _analyse(run: ast.FunctionDef, params: dict[str, str]) -> _Facts:
    if run.decorator_list:
        raise NotStandalone("run() is decorated")
    args = run.args
    if len(args.args) != 1 or args.vararg or args.kwarg or args.kwonlyargs or args.posonlyargs:
        raise NotStandalone("run() takes arguments")
    me = args.args[0].arg
    parent: dict[int, ast.AST] = {}
    for n in ast.walk(run):
        for c in ast.iter_child_nodes(n):
            parent[id(c)] = n
    facts = _Facts(me, set(), False, set())

    def is_self_call(e: ast.AST, what: tuple[str, ...] = ("input", "output")) -> bool:
        return (
            isinstance(e, ast.Call)
            and isinstance(e.func, ast.Attribute)
            and isinstance(e.func.value, ast.Name)
            and e.func.value.id == me
            and e.func.attr in what
            and not e.args
            and not e.keywords
        )

    def is_target(e: ast.AST) -> bool:
        if is_self_call(e):
            return True
        if isinstance(e, ast.Subscript):
            return is_target(e.value)
        return isinstance(e, ast.Name) and isinstance(e.ctx, ast.Load) and e.id in facts.targets

    def collection(e: ast.AST, methods: tuple[str, ...]) -> bool:
        return (
            isinstance(e, ast.Call)
            and isinstance(e.func, ast.Attribute)
            and e.func.attr in methods
            and not e.args
            and is_target(e.func.value)
        )

    def enumerated(e: ast.AST) -> bool:
        return (
            isinstance(e, ast.Call)
            and isinstance(e.func, ast.Name)
            and e.func.id == "enumerate"
            and len(e.args) == 1
            and not e.keywords
            and is_target(e.args[0])
        )

    # names bound to targets: x = <target>, for x in <targets>[.values()],
    # for k, x in <targets>.items() / enumerate(<targets>) (until nothing new)
    bindings: dict[str, int] = {}
    target_bindings: dict[str, int] = {}
    for n in ast.walk(run):
        if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)):
            bindings[n.id] = bindings.get(n.id, 0) + 1
    changed = True
    while changed:
        changed = False
        found: dict[str, int] = {}
        for n in ast.walk(run):
            names: list[str] = []
            if isinstance(n, ast.Assign) and len(n.targets) == 1 and is_target(n.value):
                if isinstance(n.targets[0], ast.Name):
                    names = [n.targets[0].id]
            elif isinstance(n, (ast.For, ast.comprehension)):
                if isinstance(n.target, ast.Name) and (
                    is_target(n.iter) or collection(n.iter, ("values",))
                ):
                    names = [n.target.id]
                elif (
                    isinstance(n.target, ast.Tuple)
                    and len(n.target.elts) == 2
                    and isinstance(n.target.elts[1], ast.Name)
                    and (collection(n.iter, ("items",)) or enumerated(n.iter))
                ):
                    names = [n.target.elts[1].id]
            for x in names:
                found[x] = found.get(x, 0) + 1
        if set(found) - facts.targets:
            facts.targets |= set(found)
            changed = True
        target_bindings = found
    for x in facts.targets:
        if bindings.get(x) != target_bindings.get(x):
            raise NotStandalone(f"run() binds {x} to a target and to something else")
    clash = {INPUTS, OUTPUT, "os"} | set(params)
    for x in bindings:
        if x in clash:
            raise NotStandalone(f"run() has a variable named {x}")

    for n in ast.walk(run):
        if isinstance(n, (ast.Yield, ast.YieldFrom)):
            raise NotStandalone("run() yields tasks (dynamic dependencies)")
        if isinstance(n, ast.Name) and n.id == me and n is not args.args[0]:
            up = parent.get(id(n))
            if not isinstance(up, ast.Attribute):
                raise NotStandalone(f"run() passes {me} on line {n.lineno}")
            call = parent.get(id(up))
            called = isinstance(call, ast.Call) and call.func is up
            if up.attr in ("input", "output") and called and is_self_call(call):
                facts.inputs |= up.attr == "input"
                continue
            if up.attr in params and not called and isinstance(up.ctx, ast.Load):
                if params[up.attr] not in (*_PLAIN_PARAMS, "DateParameter"):
                    raise NotStandalone(f"run() reads {me}.{up.attr}, a {params[up.attr]}")
                facts.params.add(up.attr)
                continue
            raise NotStandalone(f"run() uses {me}.{up.attr}{'()' if called else ''}")
        if isinstance(n, ast.expr) and is_target(n):
            _check_target_use(n, parent, is_target)
    return facts


def _check_target_use(e: ast.expr, parent: dict[int, ast.AST], is_target) -> None:
    """A target (or collection of them) is only opened, asked for its path or
    existence, indexed, iterated or counted: the uses a path keeps."""
    up = parent.get(id(e))
    line = getattr(e, "lineno", "?")
    what = f"{ast.unparse(e)} (a Luigi target) on line {line}"
    if isinstance(up, ast.Subscript) and up.value is e:
        return
    if isinstance(e, ast.Name) and isinstance(e.ctx, ast.Store):
        return
    if isinstance(up, ast.Attribute) and up.value is e:
        call = parent.get(id(up))
        called = isinstance(call, ast.Call) and call.func is up and not call.keywords
        if up.attr == "path" and not called:
            return
        if up.attr in ("exists", "keys") and called and not call.args:
            return
        if up.attr in ("values", "items") and called and not call.args and _iterated(call, parent):
            return
        if up.attr == "open" and called:
            mode = call.args[0] if call.args else ast.Constant("r")
            if len(call.args) > 1 or not (
                isinstance(mode, ast.Constant) and mode.value in (*_READ_MODES, *_WRITE_MODES)
            ):
                raise NotStandalone(f"run() opens {what} with arguments other than a mode")
            if mode.value in _READ_MODES:
                return
            holder = parent.get(id(call))
            if isinstance(holder, ast.withitem):
                block = parent.get(id(holder))
                if any(
                    isinstance(n, (ast.Return, ast.Break, ast.Continue))
                    for st in getattr(block, "body", [])
                    for n in ast.walk(st)
                ):
                    # the rename after the block would be skipped
                    raise NotStandalone(f"run() leaves the with block writing {what} early")
                return
            closer = parent.get(id(holder))
            if (
                isinstance(holder, ast.Attribute)
                and holder.attr == "close"
                and isinstance(closer, ast.Call)
                and not closer.args
                and isinstance(parent.get(id(closer)), ast.Expr)
            ):
                return
            raise NotStandalone(f"run() writes {what} outside a with statement")
        raise NotStandalone(f"run() uses .{up.attr} of {what}")
    if isinstance(up, (ast.For, ast.comprehension)) and up.iter is e:
        return
    if isinstance(up, ast.Assign) and up.value is e and isinstance(up.targets[0], ast.Name):
        return  # a name the analysis follows (one target: checked when bound)
    if isinstance(up, ast.Call) and isinstance(up.func, ast.Name) and up.args == [e]:
        if up.func.id == "len" or (up.func.id == "enumerate" and _iterated(up, parent)):
            return
    raise NotStandalone(f"run() passes {what}")


def _iterated(call: ast.Call, parent: dict[int, ast.AST]) -> bool:
    """Is ``call`` what a for loop or comprehension iterates (whose names
    the analysis follows)?"""
    up = parent.get(id(call))
    return isinstance(up, (ast.For, ast.comprehension)) and up.iter is call


# ---------------------------------------------------------------------------
# the rewrite (libcst: comments and layout stay)


class _Rewrite(cst.CSTTransformer):
    def __init__(self, facts: _Facts) -> None:
        super().__init__()
        self.facts = facts
        # id(open call for writing) -> (that call, kept alive; the path)
        self.writes: dict[int, tuple[cst.Call, cst.BaseExpression]] = {}

    def _is_self(self, node: cst.BaseExpression) -> bool:
        return isinstance(node, cst.Name) and node.value == self.facts.self_name

    def _is_target(self, node: cst.BaseExpression) -> bool:
        if isinstance(node, cst.Subscript):
            return self._is_target(node.value)
        return isinstance(node, cst.Name) and (
            node.value in self.facts.targets or node.value in (INPUTS, OUTPUT)
        )

    def leave_Attribute(
        self, original_node: cst.Attribute, updated_node: cst.Attribute
    ) -> cst.BaseExpression:
        if self._is_self(updated_node.value) and updated_node.attr.value in self.facts.params:
            return cst.Name(updated_node.attr.value)
        if updated_node.attr.value == "path" and self._is_target(updated_node.value):
            return updated_node.value
        return updated_node

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        func = updated_node.func
        if not isinstance(func, cst.Attribute):
            return updated_node
        name = func.attr.value
        if self._is_self(func.value) and name in ("input", "output") and not updated_node.args:
            return cst.Name(INPUTS if name == "input" else OUTPUT)
        if not self._is_target(func.value):
            return updated_node
        if name == "exists":
            return cst.parse_expression("os.path.exists(x)").with_changes(
                args=[cst.Arg(func.value)]
            )
        if name == "open":
            call = updated_node.with_changes(
                func=cst.Name("open"), args=[cst.Arg(func.value), *updated_node.args]
            )
            mode = updated_node.args[0].value if updated_node.args else None
            if isinstance(mode, cst.SimpleString) and mode.evaluated_value in _WRITE_MODES:
                self.writes[id(call)] = (call, func.value)
            return call
        return updated_node

    def leave_With(
        self, original_node: cst.With, updated_node: cst.With
    ) -> cst.BaseStatement | cst.FlattenSentinel:
        written = [
            self.writes[id(i.item)][1] for i in updated_node.items if id(i.item) in self.writes
        ]
        if not written:
            return updated_node
        items = []
        for item in updated_node.items:
            path = self.writes.get(id(item.item), (None, None))[1]
            if path is not None:
                call = item.item
                assert isinstance(call, cst.Call)
                tmp = cst.BinaryOperation(path, cst.Add(), cst.SimpleString('"-tmp"'))
                item = item.with_changes(
                    item=call.with_changes(args=[cst.Arg(tmp), *call.args[1:]])
                )
            items.append(item)
        before = [_makedirs(p) for p in written]
        before[0] = before[0].with_changes(leading_lines=updated_node.leading_lines)
        after = [
            cst.parse_statement(f'os.replace({_code(p)} + "-tmp", {_code(p)})\n') for p in written
        ]
        return cst.FlattenSentinel(
            [*before, updated_node.with_changes(items=items, leading_lines=[]), *after]
        )

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.BaseStatement | cst.FlattenSentinel:
        made = []
        for stmt in updated_node.body:
            value = stmt.value if isinstance(stmt, cst.Expr) else None
            if (
                isinstance(value, cst.Call)
                and isinstance(value.func, cst.Attribute)
                and id(value.func.value) in self.writes
            ):
                made.append(_makedirs(self.writes[id(value.func.value)][1]))
        if not made:
            return updated_node
        made[0] = made[0].with_changes(leading_lines=updated_node.leading_lines)
        return cst.FlattenSentinel([*made, updated_node.with_changes(leading_lines=[])])


def _code(e: cst.BaseExpression) -> str:
    return cst.Module(body=[]).code_for_node(e)


def _makedirs(path: cst.BaseExpression) -> cst.SimpleStatementLine:
    """LocalTarget.open("w") creates the parent folder first."""
    stmt = cst.parse_statement(
        f'os.makedirs(os.path.dirname({_code(path)}) or ".", exist_ok=True)\n'
    )
    assert isinstance(stmt, cst.SimpleStatementLine)
    return stmt
