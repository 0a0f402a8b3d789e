"""Luigi frontend: a module of Luigi tasks -> one workflow per root task.

Luigi's graph is code (``requires()`` depends on parameter values), so by
default the module is imported and asked: ``luigi.child`` runs in a separate
interpreter owned by ``wfconv.proc`` (a timeout and a memory cap; stopped with
everything it started), walks ``deps()`` from each root and prints what it
found. **That executes the user's module.** ``--static`` (option ``static``)
never imports it; a module that cannot be imported (a missing contrib backend,
an import that hangs) is read statically too (``luigi.static``), with a
diagnostic saying why. Both readers produce the same description (instances
with their parameters, outputs and requirements); this module turns it into
the IR.

Mapping (docs/codes/luigi.md has the table):
- one distinct instance (family + significant parameters) = one task; its id is
  the family when unique in the workflow, else ``Family(param=value, ...)``
  with the parameters whose values tell the instances apart (never Luigi's hash);
- ``ExternalTask`` -> ``external``, ``WrapperTask`` -> ``empty``, other tasks
  -> ``python`` with ``callable = Class.run``;
- ``retry_count`` N -> ``retries`` N-1 (Luigi disables a task once its
  failures reach ``retry_count``, so N is the number of attempts), retry delay
  900 s (Luigi's scheduler default), ``worker_timeout`` -> ``timeout_s``.
"""

from __future__ import annotations

import ast
import json
import math
import os
import signal
import sys
from pathlib import Path
from typing import Any

from wfconv import extras, proc
from wfconv.backends import shipped
from wfconv.errors import InputError
from wfconv.frontends import pychunks
from wfconv.ir.model import (
    DATA_INTERVAL,
    TRIGGER,
    Action,
    Bundle,
    Diagnostic,
    Schedule,
    SourceRef,
    Task,
    Workflow,
)
from wfconv.ir.validate import MAX_RETRIES, finalize

ENGINE = "luigi"

DEFAULT_TIMEOUT_S = 20.0
# The import child's address space and kept output (wfconv.proc enforces them):
# importing a Luigi module needs ~100 MB; a module that allocates more is not
# a workflow definition, and is read statically instead.
CHILD_MEMORY_MB = 1024
CHILD_OUTPUT_BYTES = 64 * 1024 * 1024
# Luigi's scheduler waits retry_delay (default 900 s) before a failed task is
# PENDING again.
LUIGI_RETRY_DELAY_S = 900.0
MAX_TASKS = 5000

# Stable diagnostic codes (docs/codes/luigi.md).
STATIC_ASKED = "LG001"
IMPORT_FAILED = "LG002"
IMPORT_TIMEOUT = "LG003"
CHILD_FAILED = "LG004"
STATIC_FAILED = "LG005"
NO_TASKS = "LG010"
NO_ROOTS = "LG011"
NOT_INSTANTIABLE = "LG012"
BASE_CLASS = "LG013"
BUILD_CALL = "LG014"
REQUIRES_FAILED = "LG020"
OUTPUT_FAILED = "LG021"
NOT_A_TASK = "LG022"
TOO_MANY = "LG023"
SETTING_FAILED = "LG024"
HANDLER_FAILED = "LG025"
HANDLER_APPROX = "LG026"
STATIC_UNKNOWN = "LG101"
DYNAMIC_DEPS = "LG030"
RETRY_COUNT = "LG040"

ACTIONS = {
    "external": lambda info, outputs: Action("external", {"output": outputs[0]} if outputs else {}),
    "wrapper": lambda info, outputs: Action("empty", {}),
    "normal": lambda info, outputs: _run_action(info),
}


def _run_action(info: dict[str, Any]) -> Action:
    """A task's run(): what its body plainly does (a shell command, nothing,
    a failure; read with ast by either reader), else the method itself."""
    plain = info.get("run_action")
    if isinstance(plain, dict) and plain.get("kind") in ("shell", "empty", "fail", "email"):
        fields = {k: v for k, v in plain.items() if k != "kind" and not (k == "message" and not v)}
        return Action(plain["kind"], fields)
    return Action("python", {"callable": f"{info['class']}.run", "module": info.get("module_name")})


# ---------------------------------------------------------------------------
# entry point


def parse(path: str, text: str | None = None, **options) -> Bundle:
    """Read one Luigi module. Options: ``roots`` (class names or families),
    ``params`` (name -> Luigi's string form, for the roots), ``static`` (never
    import), ``timeout`` (seconds for the import, default
    ``$WFCONV_LUIGI_TIMEOUT`` or 20), ``max_tasks``
    (instances per workflow before the walk stops, default 5000), ``python``
    (interpreter for the import; default ``$WFCONV_LUIGI_PYTHON`` or wfconv's)."""
    if text is None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(path, None, f"cannot read: {exc}") from None
    if shipped.is_shipped(path, text):
        return Bundle()  # wfconv's helper module beside the pipelines it wrote
    tree = _syntax_check(path, text)
    extras.require("luigi", "reading Luigi modules")
    roots = list(options.get("roots") or [])
    params = dict(options.get("params") or {})
    max_tasks = int(options.get("max_tasks") or MAX_TASKS)
    notes: list[Diagnostic] = []
    if options.get("static"):
        notes.append(
            Diagnostic(
                "info",
                STATIC_ASKED,
                "read statically (--static): the module was not imported",
                path,
            )
        )
        answer = None
    else:
        timeout = _timeout(path, options.get("timeout"))
        answer, problem = run_child(path, roots, params, timeout, max_tasks, options.get("python"))
        if problem is not None:
            notes.append(problem)
    if answer is None:
        answer = _read_statically(path, text, tree, roots, params, max_tasks)
    if not answer.get("ok"):
        # Only option problems (--root/--param) come back here: import
        # problems fell back to the static reading.
        raise InputError(path, answer.get("line"), answer["error"])
    answer.setdefault("constants", module_constants(tree))
    bundle = build_bundle(path, answer, text)
    _attach_read_notes(bundle, notes)
    for w in bundle.workflows:
        # A Luigi run sees the date its caller passes (docs/semantics.md R3);
        # wfconv's own catch_up() passes interval starts (set below).
        w.schedule.model = w.schedule.model or TRIGGER
    return bundle


def _timeout(path: str, option: Any) -> float:
    """Seconds the import may take: option ``timeout``, else
    ``$WFCONV_LUIGI_TIMEOUT``, else 20."""
    raw = option if option is not None else os.environ.get("WFCONV_LUIGI_TIMEOUT")
    if raw in (None, ""):
        return DEFAULT_TIMEOUT_S
    try:
        value = float(raw)
    except (TypeError, ValueError):
        value = -1.0
    if not value > 0:
        raise InputError(path, None, f"Luigi import timeout must be a positive number, got {raw!r}")
    return value


def _read_statically(path, text, tree, roots, params, max_tasks) -> dict[str, Any]:
    """The static reader's answer; a failure of the reader itself (a construct
    it trips over) is reported as a diagnostic, never as a traceback."""
    from wfconv.frontends.luigi import static as luigi_static

    try:
        return luigi_static.read(path, text, tree, roots, params, max_tasks)
    except RecursionError:
        raise InputError(path, None, "input is nested too deeply to read") from None
    except Exception as exc:
        return {
            "ok": True,
            "read": "static",
            "classes": [],
            "walks": [],
            "notes": [{"code": "static_failed", "error": f"{type(exc).__name__}: {exc}"}],
        }


# Module-level constants wfconv's Luigi backend writes beside the root
# WrapperTask (wfconv_root = True): what Luigi itself cannot hold.
_WFCONV_CONSTANTS = ("WORKFLOW_ID", "SCHEDULE", "PARAM_ATTRS", "SHARED_PARAMS", "RETRY_DELAY_S")


def module_constants(tree: ast.Module) -> dict[str, Any]:
    """The literal values of the module-level constants wfconv's backend
    writes (read with ast in both modes; never evaluated)."""
    out: dict[str, Any] = {}
    for node in tree.body:
        if not (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id in _WFCONV_CONSTANTS
        ):
            continue
        try:
            out[node.targets[0].id] = ast.literal_eval(node.value)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
    return out


def _syntax_check(path: str, text: str) -> ast.Module:
    """A syntax error is bad input (exit 2), not something to import or guess at."""
    try:
        return pychunks.parse_module(text, path, lazy=False)  # large files: in pieces
    except SyntaxError as exc:
        raise InputError(path, exc.lineno, f"syntax error: {exc.msg}") from None
    except ValueError as exc:  # null bytes
        raise InputError(path, None, f"cannot parse: {exc}") from None


def _attach_read_notes(bundle: Bundle, notes: list[Diagnostic]) -> None:
    """How the module was read concerns every workflow it gave (and the file
    when it gave none)."""
    if not bundle.workflows:
        bundle.diagnostics[:0] = notes
        return
    for w in bundle.workflows:
        w.diagnostics[:0] = [
            Diagnostic(d.severity, d.code, d.message, d.path, d.line) for d in notes
        ]


# ---------------------------------------------------------------------------
# the child process


# The child loads child.py by path: ``-m wfconv.frontends.luigi.child``
# would first import wfconv's packages (networkx and all, ~0.1 s) for nothing,
# and running the file as a script would put this folder, with its luigi.py,
# first on sys.path, shadowing Luigi itself.
_CHILD_BOOT = (
    "import importlib.util, sys\n"
    "spec = importlib.util.spec_from_file_location('_wfconv_luigi_child', sys.argv[1])\n"
    "child = importlib.util.module_from_spec(spec)\n"
    "spec.loader.exec_module(child)\n"
    "sys.exit(child.main())\n"
)
_CHILD_FILE = str(Path(__file__).with_name("child.py"))


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def child_python(option: str | None = None) -> str:
    """The interpreter that imports the module: option ``python``, else
    ``$WFCONV_LUIGI_PYTHON``, else wfconv's own. The child needs only the
    standard library and luigi, so the pipeline's own virtualenv works."""
    return option or os.environ.get("WFCONV_LUIGI_PYTHON") or sys.executable


def run_child(
    path: str,
    roots: list[str],
    params: dict[str, str],
    timeout: float,
    max_tasks: int = MAX_TASKS,
    python: str | None = None,
) -> tuple[dict[str, Any] | None, Diagnostic | None]:
    """Import the module in a child interpreter. Returns (answer, None), or
    (None, diagnostic) when the caller must read the module statically."""
    request = json.dumps(
        {
            "path": str(Path(path).resolve()),
            "roots": roots,
            "params": params,
            "max_tasks": max_tasks,
        }
    )
    interpreter = child_python(python)
    try:
        done = proc.run(
            [interpreter, "-c", _CHILD_BOOT, _CHILD_FILE],
            input=request.encode(),
            timeout=timeout,
            env=_child_env(),
            memory_mb=CHILD_MEMORY_MB,
            cpu_s=int(timeout) + 5,
            max_bytes=CHILD_OUTPUT_BYTES,
        )
    except OSError as exc:
        return None, Diagnostic(
            "warning",
            CHILD_FAILED,
            f"cannot start {interpreter} to import the module ({exc.strerror or exc}); "
            "read statically",
            path,
        )
    answer = _answer(done.stdout)
    if answer is not None:
        # Complete even after a timeout: something the module started (a
        # process holding a pipe open) outlived it, and is killed now.
        return _judge(path, answer)
    if done.timed_out:
        return None, Diagnostic(
            "warning",
            IMPORT_TIMEOUT,
            f"importing the module did not finish within {timeout:g} s; read statically",
            path,
        )
    tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [
        _exit_text(done.returncode)
    ]
    return None, Diagnostic(
        "warning",
        CHILD_FAILED,
        f"the import process gave no answer ({tail[0]}); read statically",
        path,
    )


def _exit_text(returncode: int | None) -> str:
    if returncode is not None and returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        if name == "SIGXCPU":
            return "CPU time limit reached"
        return f"killed by {name}"
    return f"exit code {returncode}"


def _answer(out: bytes) -> dict[str, Any] | None:
    try:
        answer = json.loads(out.decode("utf-8", "replace"))
    except ValueError:
        return None
    return answer if isinstance(answer, dict) and "ok" in answer else None


def _judge(path: str, answer: dict[str, Any]) -> tuple[dict[str, Any] | None, Diagnostic | None]:
    """An import problem sends the caller to the static reader; anything else
    (a graph, or a --root/--param problem) is the answer."""
    if not answer.get("ok") and answer.get("stage") in ("import", "syntax", "walk"):
        what = (
            "asking the imported tasks failed"
            if answer["stage"] == "walk"
            else "the module could not be imported"
        )
        error = answer["error"]
        if str(error).startswith("MemoryError"):
            error = f"MemoryError: the import child may use {CHILD_MEMORY_MB} MB"
        return None, Diagnostic(
            "warning",
            IMPORT_FAILED,
            f"{what} ({error}); read statically",
            path,
            answer.get("line"),
        )
    return answer, None


# ---------------------------------------------------------------------------
# description -> IR


def build_bundle(path: str, answer: dict[str, Any], text: str | None = None) -> Bundle:
    """The IR of a reader's answer; ``text`` (the module's source) gives the
    tasks of its classes their standalone run() (``standalone.attach``)."""
    bundle = Bundle()
    module_file = answer.get("module_file")
    for note in answer.get("notes", []):
        d = _module_note(path, note, answer.get("walks", []))
        if d is not None:
            bundle.diagnostics.append(d)
    if any(n.get("code") == "static_failed" for n in answer.get("notes", [])):
        pass
    elif not answer.get("classes"):
        bundle.diagnostics.append(
            Diagnostic("warning", NO_TASKS, "no Luigi task class is defined in this module", path)
        )
    elif not answer.get("walks"):
        bundle.diagnostics.append(
            Diagnostic(
                "warning",
                NO_ROOTS,
                "no root task: every task class is required by another or needs parameters "
                "without defaults; choose one with --root NAME and --param NAME=VALUE",
                path,
            )
        )
    workflows = [
        build_workflow(
            path,
            module_file,
            w,
            answer.get("notes", []),
            answer.get("read", "import"),
            answer.get("module_name"),
            answer.get("constants") or {},
            text,
        )
        for w in answer.get("walks", [])
    ]
    _unique_workflow_ids(workflows)
    bundle.workflows.extend(finalize(w) for w in workflows)
    return bundle


# File-level notes of a reader: note code -> (severity, LG code, message).
_MODULE_NOTES = {
    "not_instantiable": (
        "info",
        NOT_INSTANTIABLE,
        "{class} is not a root: it cannot be built from its defaults ({error}); "
        "--root/--param can choose it",
    ),
    "base_class": (
        "info",
        BASE_CLASS,
        "{class} is not a root: other task classes of the module extend it",
    ),
    "build_call": (
        "info",
        BUILD_CALL,
        "the module calls {error}() when imported; wfconv did not run it",
    ),
    "static": ("warning", STATIC_UNKNOWN, "{class}: {error}"),
    "static_failed": (
        "error",
        STATIC_FAILED,
        "the static reader failed on this module ({error}); nothing was read",
    ),
}


def _module_note(path: str, note: dict[str, Any], walks: list[dict[str, Any]]) -> Diagnostic | None:
    code = note.get("code")
    if code not in _MODULE_NOTES:
        return None  # per-instance notes belong to the workflows
    if code == "static" and (
        not note.get("class")
        or any(note["class"] == i["class"] for w in walks for i in w["instances"].values())
    ):
        return None  # about an instance or a class of a workflow: attached there
    severity, lg, text = _MODULE_NOTES[code]
    values = {"class": note.get("class"), "error": note.get("error")}
    return Diagnostic(severity, lg, text.format_map(values), path, note.get("line"))


def _source_path(path: str, module_file: str | None, file: str | None) -> str:
    """The module's own path as the user gave it; other files (a base class
    imported from elsewhere) relative to the working directory."""
    if file is None or file == module_file:
        return path
    try:
        return os.path.relpath(file)
    except ValueError:
        return file


def post_order(root: str, instances: dict[str, Any]) -> list[str]:
    """Instances with every requirement before the task requiring it, in
    requires() order (iterative: deep chains do not hit the recursion limit)."""
    out: list[str] = []
    done: set[str] = set()
    entered: set[str] = set()
    stack: list[tuple[str, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            if node not in done:
                done.add(node)
                out.append(node)
            continue
        if node in entered or node not in instances:
            continue
        entered.add(node)
        stack.append((node, True))
        for dep in reversed(instances[node]["deps"]):
            if dep not in entered:
                stack.append((dep, False))
    return out


def _significant(info: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in info["params"] if p["significant"]]


def readable_ids(order: list[str], instances: dict[str, Any]) -> dict[str, str]:
    """Luigi task_id -> IR id: the family when unique, else the family plus the
    significant parameters whose values differ between that family's instances."""
    by_family: dict[str, list[str]] = {}
    for tid in order:
        by_family.setdefault(instances[tid]["family"], []).append(tid)
    ids: dict[str, str] = {}
    for family, members in by_family.items():
        if len(members) == 1:
            ids[members[0]] = family
            continue
        names = [p["name"] for p in _significant(instances[members[0]])]
        texts = [{p["name"]: p["text"] for p in _significant(instances[m])} for m in members]
        differing = [n for n in names if len({t.get(n) for t in texts}) > 1] or names
        for member, values in zip(members, texts, strict=True):
            inner = ", ".join(f"{n}={values.get(n)}" for n in differing)
            ids[member] = f"{family}({inner})"
    return ids


def _output_text(target: dict[str, Any]) -> str:
    """LocalTarget -> its path; other targets -> class name (with their path)."""
    path = target.get("path")
    if target["class"] == "LocalTarget" and path is not None:
        return path
    return f"{target['class']}({path})" if path is not None else target["class"]


def _retries(retry_count: Any) -> int:
    """Luigi disables a task once its failures reach retry_count: N-1 retries.
    An infinite count (``1e999``) never disables it: the IR's maximum."""
    if retry_count is None:
        return 0
    if isinstance(retry_count, float) and not math.isfinite(retry_count):
        return MAX_RETRIES if retry_count > 0 else 0
    return max(int(retry_count) - 1, 0)


def build_task(
    path: str,
    module_file: str | None,
    tid: str,
    info: dict[str, Any],
    ids: dict[str, str],
    module_name: str | None = None,
) -> Task:
    outputs = [_output_text(t) for t in info["outputs"]]
    info = dict(info)
    file = info.get("file")
    # The name a worker imports the class from (not an alias the child used).
    own = file is None or file == module_file
    info["module_name"] = (module_name or Path(path).stem) if own else info.get("module")
    action = ACTIONS[info["kind"]](info, outputs)
    luigi_extra: dict[str, Any] = {
        "family": info["family"],
        "class": info["class"],
        "namespace": info.get("namespace"),
        "kind": info["kind"],
        "param_types": {p["name"]: p["type"] for p in info["params"]},
    }
    insignificant = {p["name"]: p["value"] for p in info["params"] if not p["significant"]}
    if insignificant:
        luigi_extra["insignificant_params"] = insignificant
    if info.get("base"):
        luigi_extra["base"] = info["base"]
    if info.get("retry_count") is not None:
        luigi_extra["retry_count"] = info["retry_count"]
    for key, default in (
        ("priority", 0),
        ("resources", {}),
        ("disable_window", None),
        ("owner_email", None),
    ):
        if info.get(key, default) not in (default, None):
            luigi_extra[key] = info[key]
    if info["outputs"] and any(t["class"] != "LocalTarget" for t in info["outputs"]):
        luigi_extra["targets"] = info["outputs"]
    requires = info.get("requires") or {"shape": "none"}
    if requires.get("shape") == "dict":
        # Keys name IR ids, so a Luigi backend can rebuild self.input()["key"].
        keys = {k: [ids.get(t, t) for t in v] for k, v in requires.get("keys", {}).items()}
        luigi_extra["requires"] = {"shape": "dict", "keys": keys}
    elif requires.get("shape") != "none":
        luigi_extra["requires"] = requires
    timeout = info.get("worker_timeout")
    return Task(
        id=tid,
        action=action,
        retries=_retries(info.get("retry_count")),
        retry_delay_s=LUIGI_RETRY_DELAY_S,
        timeout_s=float(timeout) if timeout else None,
        source=SourceRef(ENGINE, _source_path(path, module_file, file), info.get("line")),
        params={p["name"]: p["value"] for p in _significant(info)},
        outputs=outputs,
        doc=info.get("doc"),
        extra={"luigi": luigi_extra},
    )


def build_workflow(
    path: str,
    module_file: str | None,
    walk: dict[str, Any],
    notes: list[dict[str, Any]],
    read: str,
    module_name: str | None = None,
    constants: dict[str, Any] | None = None,
    text: str | None = None,
) -> Workflow:
    instances = walk["instances"]
    root = instances[walk["root"]]
    order = post_order(walk["root"], instances)
    # A class the main graph requires anyway is not started by the failure alone.
    main = set(order)
    pairs = [
        (u, h)
        for u, h in walk.get("handlers", [])
        if u in instances and h in instances and h not in main
    ]
    for _, h in pairs:
        order += [t for t in post_order(h, instances) if t not in order]
    ids = readable_ids(order, instances)
    w = Workflow(
        id=root["family"],
        description=root.get("doc"),
        params={p["name"]: p["value"] for p in _significant(root)},
        source=SourceRef(
            ENGINE, _source_path(path, module_file, root.get("file")), root.get("line")
        ),
        extra={"luigi": {"read": read, "root": root["family"]}},
    )
    if root.get("wfconv_root"):
        _apply_wfconv_constants(w, root, constants or {})
    # The root WrapperTask that wfconv's Luigi backend adds only gathers the
    # workflow's final tasks: reading a converted module back must give the
    # original tasks, so it is not one of them (its family is the workflow id).
    synthetic = {tid for tid in order if instances[tid].get("wfconv_root")}
    order = [tid for tid in order if tid not in synthetic]
    for tid in order:
        w.tasks.append(build_task(path, module_file, ids[tid], instances[tid], ids, module_name))
    for tid in order:
        for dep in instances[tid]["deps"]:
            if dep in ids and dep not in synthetic:
                # Plain ordering: what flows is the upstream's targets, which
                # the task opens itself (self.input()); no value is passed.
                w.add_edge(ids[dep], ids[tid], "control")
    if text is not None:
        from wfconv.frontends.luigi import standalone  # libcst: only when there is a module

        standalone.attach(w, text, instances, ids, module_file)
    _failure_edges(w, pairs, instances, ids, synthetic)
    shared = _shared_params(root, constants or {})
    if root.get("wfconv_root") and isinstance(shared, list):
        # The run identity and workflow parameters every task of a wfconv
        # module carries are the workflow's, not the task's own.
        for t in w.tasks:
            t.params = {k: v for k, v in t.params.items() if k not in shared}
    delay = (constants or {}).get("RETRY_DELAY_S")
    if root.get("wfconv_root") and type(delay) in (int, float) and delay >= 0:
        # The generated main() sets the scheduler's retry_delay to it.
        for t in w.tasks:
            t.retry_delay_s = float(delay)
    _walk_diagnostics(w, path, module_file, order, instances, ids, notes)
    return w


def _failure_edges(w: Workflow, pairs, instances, ids, synthetic) -> None:
    """A task a FAILURE event handler starts runs when its upstream fails:
    trigger rule one_failed, with an edge from the upstream. Of the tasks one
    handler names, those that require another of them follow it through
    requires() instead (a handler path), so only the first ones get the edge."""
    by_upstream: dict[str, list[str]] = {}
    for u, h in pairs:
        if u not in synthetic and h not in synthetic:
            by_upstream.setdefault(u, []).append(h)
    for u, named in by_upstream.items():
        members = set(named)
        for h in named:
            if any(d in members for d in instances[h]["deps"]):
                continue
            w.add_edge(ids[u], ids[h], "control")
            w.task(ids[h]).trigger_rule = "one_failed"
            _approximation_note(w, ids[u], ids[h], instances[u])


def _approximation_note(w: Workflow, up: str, handler: str, info: dict[str, Any]) -> None:
    """one_failed is exact for a FAILURE handler only when its upstream runs
    once and always runs; otherwise say where Luigi differs."""
    why = []
    if _retries(info.get("retry_count")) > 0:
        why.append(f"after each failed attempt of {up!r}, not once after the last")
    if info["deps"]:
        why.append(f"not when {up!r} never runs because a requirement failed")
    if why:
        w.diag(
            "warning",
            HANDLER_APPROX,
            f"{handler}: runs from {up}'s FAILURE event: {'; '.join(why)} "
            "(trigger rule one_failed approximates it)",
            w.source.path if w.source else None,
            info.get("line"),
        ).task = handler


_SCHEDULE_KINDS = ("cron", "interval", "once", "manual", "datasets", "assets")


def _apply_wfconv_constants(w: Workflow, root: dict[str, Any], constants: dict[str, Any]) -> None:
    """A module wfconv's backend wrote (its root WrapperTask says so): the
    constants beside it give back what Luigi cannot hold.

    - ``WORKFLOW_ID``: the workflow id (the root's family differs when a task
      already had that id);
    - ``PARAM_ATTRS`` (workflow parameter -> attribute) and ``SHARED_PARAMS``:
      the workflow parameters under their own names; the run identity the
      backend adds (``date`` / ``date_hour`` / ``run_id``, BL002) is how Luigi
      names a run, not a parameter of the workflow (kept in ``extra``);
    - ``SCHEDULE``: the schedule, start/end dates and catchup, as far as the
      module carries them out (``runs_by``: ``catch_up()`` or a cron line,
      at the cron ``runs_at``; ``by hand`` reads as a manual schedule)."""
    wid = constants.get("WORKFLOW_ID")
    if isinstance(wid, str) and wid:
        w.id = wid
    shared = _shared_params(root, constants)
    attrs = constants.get("PARAM_ATTRS") or {
        n: n for n in shared if n != "state_dir" and n not in _RUN_PARAMS
    }
    if isinstance(attrs, dict) and isinstance(shared, list):
        values = {p["name"]: p["value"] for p in root["params"]}
        w.params = {str(k): values[a] for k, a in attrs.items() if a in values}
        identity = [
            n for n in shared if n not in attrs.values() and n != "state_dir" and n in values
        ]
        if identity:
            w.extra["luigi"]["run_param"] = identity[0]
    sched = constants.get("SCHEDULE")
    if not isinstance(sched, dict) or sched.get("kind") not in _SCHEDULE_KINDS:
        return
    runs_by = sched.get("runs_by")
    if runs_by != "cron line":  # a cron line runs from when it is installed
        w.start_date = _text_or_none(sched.get("start_date"))
        w.end_date = _text_or_none(sched.get("end_date"))
    runs_at = _text_or_none(sched.get("runs_at"))
    if runs_by in ("catch_up()", "cron line") and runs_at:
        # What the module carries out: the cron line (Range* intervals of a
        # daily/hourly schedule are that cron's ticks).
        w.schedule = Schedule(
            kind="cron", cron=runs_at, timezone=str(sched.get("timezone") or "UTC")
        )
    elif sched["kind"] == "once":
        w.schedule = Schedule(kind="once", timezone=str(sched.get("timezone") or "UTC"))
    if runs_by == "catch_up()" and isinstance(sched.get("catchup"), bool):
        w.catchup = sched["catchup"]
    if runs_by == "catch_up()":
        # Range* over the cron's intervals: each date is an interval's start,
        # run once the interval is over, or at its tick (trigger model).
        w.schedule.model = TRIGGER if sched.get("model") == "trigger" else DATA_INTERVAL


# The run identity wfconv's Luigi backend gives every task (BL002).
_RUN_PARAMS = ("date", "date_hour", "run_id")


def _shared_params(root: dict[str, Any], constants: dict[str, Any]) -> Any:
    """``SHARED_PARAMS`` of a module wfconv wrote (older modules), else the
    root task's parameters: the state folder, the run identity and those the
    workflow's base class declares, which every task shares."""
    if "SHARED_PARAMS" in constants:
        return constants["SHARED_PARAMS"]
    return [p["name"] for p in root["params"]]


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _walk_diagnostics(w, path, module_file, order, instances, ids, notes) -> None:
    mine = set(order)
    classes = {instances[t]["class"] for t in order}
    messages = {
        "requires": (
            REQUIRES_FAILED,
            "{id}: requires() raised {error}; its dependencies are unknown",
        ),
        "output": (OUTPUT_FAILED, "{id}: output() raised {error}; its outputs are unknown"),
        "not_a_task": (NOT_A_TASK, "{id}: {error}; ignored"),
        "static": (STATIC_UNKNOWN, "{error}"),
        "setting": (SETTING_FAILED, "{id}: reading {error}; the default is used"),
        "handler": (
            HANDLER_FAILED,
            "{id}: its FAILURE event handler names {error}; that task is not in the graph",
        ),
        "too_many": (
            TOO_MANY,
            "{id}: the graph has more than {error} task instances (requires() may recurse "
            "without end); the walk stopped there",
        ),
    }
    first_of_class: dict[str, str] = {}
    for tid in order:
        first_of_class.setdefault(instances[tid]["class"], ids[tid])
    for note in notes:
        if note["code"] == "static" and note.get("class") in classes:
            # A class-level problem (a parameter default, a setting).
            w.diag(
                "warning",
                STATIC_UNKNOWN,
                f"{note['class']}: {note['error']}",
                path,
                note.get("line"),
            ).task = first_of_class[note["class"]]
            continue
        if note.get("task_id") not in mine or note["code"] not in messages:
            continue
        code, text = messages[note["code"]]
        info = instances[note["task_id"]]
        sev = "error" if code == TOO_MANY else "warning"
        w.diag(
            sev,
            code,
            text.format(id=ids[note["task_id"]], error=note.get("error")),
            _source_path(path, module_file, info.get("file")),
            note.get("line") or info.get("line"),
        ).task = ids[note["task_id"]]
    seen: set[tuple] = set()
    for tid in order:
        info = instances[tid]
        family = info["family"]
        src = _source_path(path, module_file, info.get("file"))
        if (family, "run") not in seen:
            seen.add((family, "run"))
            for line in info.get("run_yields") or []:
                w.diag(
                    "warning",
                    DYNAMIC_DEPS,
                    f"{family}.run() yields tasks (dynamic dependencies): they are known only "
                    "when it runs and are not in the graph",
                    src,
                    line,
                ).task = ids[tid]
        # Once per family and value (a property may give instances other values).
        count = info.get("retry_count")
        if count is not None and (family, count) not in seen:
            seen.add((family, count))
            retries = _retries(count)
            after = (
                "never disables the task"
                if isinstance(count, float) and not math.isfinite(count)
                else f"disables the task after {retries + 1} failed attempt(s)"
            )
            w.diag(
                "info",
                RETRY_COUNT,
                f"{family}: retry_count={count}: Luigi {after}, so retries={retries}, "
                f"{LUIGI_RETRY_DELAY_S:g} s apart "
                "(Luigi retries only when the worker runs with keep_alive)",
                src,
                info.get("line"),
            ).task = ids[tid]
    _dedupe(w)


def _dedupe(w: Workflow) -> None:
    """A task walked from two candidate roots reports its problems once."""
    seen: set[tuple] = set()
    out = []
    for d in w.diagnostics:
        key = (d.severity, d.code, d.message, d.path, d.line, d.task)
        if key not in seen:
            seen.add(key)
            out.append(d)
    w.diagnostics = out


def _unique_workflow_ids(workflows: list[Workflow]) -> None:
    """Two roots of one family (say, chosen twice with other parameters) get
    their parameters in the id, like tasks do."""
    counts: dict[str, int] = {}
    for w in workflows:
        counts[w.id] = counts.get(w.id, 0) + 1
    for w in workflows:
        if counts[w.id] > 1 and w.params:
            inner = ", ".join(f"{k}={v}" for k, v in w.params.items())
            w.id = f"{w.id}({inner})"
