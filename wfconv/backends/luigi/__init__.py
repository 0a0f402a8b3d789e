"""IR -> a Luigi 3 module: one ``luigi.Task`` class per task.

Why it looks the way it does
- What every converted pipeline needs lives once per output folder in the
  shipped helper module ``wfconv_luigi`` (``backends/shipped/wfconv_luigi.py``,
  written beside the modules as the Prefect target writes ``wfconv_prefect``):
  the modules hold their workflow only. A small base class per module says
  the workflow's id, the time of day and time model of its schedule and its
  parameters; the tasks follow in dependency order, requirements as
  ``@requires(...)`` (luigi.util), a ``run()`` ending with ``mark_done()``.
- Completion: every task writes a marker ``LocalTarget`` under a state
  directory (``--state-dir`` / ``$WFCONV_STATE_DIR``) keyed by the run, so
  Luigi's "complete tasks never run again" gives resumable runs.
- Identity: the original task id is the Luigi task family
  (``task_id_original``), so the Luigi frontend reads the original ids back;
  class names are only Python spellings.
- Run identity: a daily or hourly schedule becomes a ``date`` /
  ``date_hour`` parameter (``DailyTask`` / ``HourlyTask``, wall-clock dates of
  the schedule's timezone, in its time model) and ``wfconv_luigi.catch_up()``
  (``RangeDaily`` / ``RangeHourly``); anything else a ``run_id`` parameter and
  a cron line in the module docstring (Luigi has no scheduler).
- Luigi knows one trigger rule (all requirements complete). Error handlers
  (``one_failed`` / ``error`` edges) are started from the upstream's FAILURE
  event; every other rule, branches and sensors are approximated and the
  exact loss is written to the ledger (codes BLxxx).
"""

from __future__ import annotations

import ast
import dataclasses
import json
import keyword
import re
import shlex
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from wfconv.backends.common import (
    Emitted,
    env_mapping,
    error_paths,
    file_stem,
    format_python,
    function_source,
    identifier_map,
    loss,
    py_literal,
    py_str,
    render,
    topo_order,
)
from wfconv.backends.pycode import Call, Expr, Kw, list_of, statement
from wfconv.backends.pycode import literal as literal_expr
from wfconv.backends.routing import dissolve_routing
from wfconv.ir import literal
from wfconv.ir.model import TRIGGER, Diagnostic, Task, Workflow
from wfconv.runtime.schedule import effective_catchup

TARGET = "luigi"
HELPER_MODULE = "wfconv_luigi"
HELPER_SOURCE_PATH = Path(__file__).parent.parent / "shipped" / f"{HELPER_MODULE}.py"
# Files shared by every workflow of an output folder (written once).
HELPER_MODULES = (f"{HELPER_MODULE}.py",)

CODES: dict[str, str] = {
    "BL001": "the root WrapperTask is added (one task more when read back)",
    "BL002": "run identity parameter added (date / date_hour / run_id)",
    "BL101": "trigger rule other than all_success: the task runs only when every requirement succeeded",
    "BL102": "error handler runs from the upstream's FAILURE event (every failed attempt), outside requires()",
    "BL103": "edge from an error-handler path into the main path dropped",
    "BL104": "branch: Luigi has no skipped state, every downstream path runs",
    "BL105": "an error path that ends the workflow successfully (Oozie error -> end) fails the run",
    "BL106": "routing task (a transition the Oozie frontend modelled as a task) becomes plain edges",
    "BL201": "retry delay differs from the scheduler's one retry_delay set by main(); not per task",
    "BL202": "exponential backoff / per-attempt delays / delay cap not expressible",
    "BL203": "main() sets keep_alive and retry_delay; run another way, retries need both",
    "BL204": "timeout as worker_timeout: the task runs in its own process, terminated when over",
    "BL205": "sensor retries not written: a timed-out sensor is never retried",
    "BL301": "schedule kept as a cron line / Range entry point (Luigi has no scheduler)",
    "BL302": "schedule kind has no Luigi form; runs are started by hand",
    "BL303": "catchup: RangeDaily/RangeHourly run at most 50 incomplete intervals per call",
    "BL304": "start/end date and catchup of a schedule kept only as a cron line are not enforced",
    "BL401": "action cannot run in Luigi; the task fails with a clear message",
    "BL402": "sensor polls inside the task (a worker slot is held while waiting)",
    "BL403": "template expression has no Luigi counterpart; kept verbatim",
    "BL404": "email sent with luigi.notifications (needs the [email] config)",
    "BL405": "container run with `docker run` in a shell",
    "BL406": "a Luigi task's own run() is called (its module must be importable)",
    "BL407": "a kept function without a module is pasted into the module and called",
    "BL501": "construct dropped (no Luigi counterpart)",
    "BL502": "groups are flattened (Luigi has no task groups)",
    "BL503": "task parameter clashes with a workflow parameter; dropped",
}

RUN_ENV = "WFCONV_RUN_ID"
LUIGI_RETRY_DELAY_S = 900.0

# Module-level names a task class must not take.
_RESERVED_CLASSES = ("WorkflowTask",)
# Attributes of luigi.Task and of wfconv_luigi's classes a parameter must not shadow.
_TASK_ATTRS = (
    "workflow_id",
    "param_attrs",
    "shared_params",
    "trigger_model",
    "timezone",
    "at_hour",
    "at_minute",
    "start",
    "stop",
    "catchup",
    "interval_end",
    "context",
    "wait_for_file",
    "clone",
    "clone_parent",
    "clone_parents",
    "state_dir",
    "date",
    "date_hour",
    "run_id",
    "task_id_original",
    "wfconv_root",
    "shared",
    "run_key",
    "logical_date",
    "output",
    "render",
    "shell",
    "mark_done",
    "run",
    "requires",
    "input",
    "complete",
    "deps",
    "task_id",
    "task_family",
    "param_kwargs",
    "param_args",
    "priority",
    "retry_count",
    "worker_timeout",
    "resources",
    "disable_window",
    "owner_email",
    "failed_task",
    "to_str_params",
    "from_str_params",
    "get_params",
    "get_param_values",
    "event_handler",
    "trigger_event",
    "accepts_messages",
    "batchable",
    "max_batch_size",
    "disabled",
    "process_resources",
    "on_failure",
    "on_success",
    "set_status_message",
    "set_progress_percentage",
    "set_tracking_url",
    "no_unpicklable_properties",
    "initialized",
    "owner",
    "task_namespace",
)
# Airflow context names the shipped WorkflowTask.context() provides.
_CONTEXT_NAMES = (
    "ds",
    "ds_nodash",
    "ts",
    "ts_nodash",
    "logical_date",
    "data_interval_start",
    "data_interval_end",
    "run_id",
    "params",
)
# The templates the shipped WorkflowTask.render() fills in.
_KNOWN_TEMPLATES = {*_CONTEXT_NAMES, "dag.dag_id"} - {"params"}
# The same shape the generated module's render() understands.
_STRFTIME = re.compile(
    r"\(?\s*(?P<name>logical_date|data_interval_start|data_interval_end)\s*"
    r"(?:\+\s*macros\.timedelta\(\s*(?P<unit>days|hours|minutes)\s*=\s*(?P<n>-?\d+)\s*\)\s*)?"
    r"\)?\.strftime\(\s*(?P<q>['\"])(?P<fmt>.*?)(?P=q)\s*\)"
)
_TEMPLATE = re.compile(r"\{\{(.*?)\}\}", re.S)
_CRON_SAFE = re.compile(r"[0-9A-Za-z*,/\-? #]+")


@dataclass
class _Ctx:
    w: Workflow
    diags: list[Diagnostic]
    param_attrs: dict[str, str]
    # a task has parameters of its own: requires() is written out, not @requires
    explicit_requires: bool = False
    uses_requires: bool = False
    # original callable -> pasted function (alias, text, first task id)
    functions: dict[str, tuple[str, str, str]] = field(default_factory=dict)

    def warn(self, code, message, task=None, severity="warning", target=None):
        self.diags.append(
            loss(code, message, task=task, severity=severity, target=target, source=self.w)
        )


# ---------------------------------------------------------------------------
# schedules


@dataclass
class _Mode:
    mode: str  # daily | hourly | run
    at_hour: int = 0
    at_minute: int = 0
    cron: str | None = None


def _mode(w: Workflow, ctx: _Ctx) -> _Mode:
    s = w.schedule
    if s.kind in ("cron", "interval") and s.datasets:
        ctx.warn(
            "BL302",
            f"runs triggered by {s.datasets} have no Luigi form; only the time schedule is kept",
            target="docstring",
        )
    if s.kind == "cron" and s.cron:
        f = s.cron.split()
        if len(f) == 5 and f[0].isdigit() and f[2:] == ["*", "*", "*"]:
            if f[1].isdigit():
                return _Mode("daily", int(f[1]), int(f[0]), s.cron)
            if f[1] == "*":
                return _Mode("hourly", 0, int(f[0]), s.cron)
        ctx.warn(
            "BL301",
            f"cron {s.cron!r} is a cron line in the module docstring; each invocation is one run",
            target="cron line",
        )
        return _Mode("run", cron=s.cron)
    if s.kind == "interval" and s.seconds:
        start = _parse_date(w.start_date)
        if (
            w.catchup is False
            and start is not None
            and float(s.seconds) in (3600.0, 86400.0)
            and (start.minute or (float(s.seconds) == 86400.0 and start.hour))
        ):
            ctx.warn(
                "BL301",
                f"interval {s.seconds:g}s without catchup: the first run is the latest "
                "interval counted in whole intervals from the epoch (Airflow's rule, the "
                "IR's model); catch_up() takes the latest one counted from the start's "
                "time of day",
                target="catch_up()",
            )
        if float(s.seconds) == 86400:
            return _Mode(
                "daily",
                start.hour if start else 0,
                start.minute if start else 0,
                f"{start.minute if start else 0} {start.hour if start else 0} * * *",
            )
        if float(s.seconds) == 3600:
            m = start.minute if start else 0
            return _Mode("hourly", 0, m, f"{m} * * * *")
        minutes = float(s.seconds) / 60
        if minutes.is_integer() and 60 % int(minutes) == 0:
            cron = f"*/{int(minutes)} * * * *"
            ctx.warn(
                "BL301",
                f"interval {s.seconds}s as cron {cron!r} (cron aligns to the "
                "clock, the interval to the start date)",
                target="cron line",
            )
            return _Mode("run", cron=cron)
        ctx.warn(
            "BL302",
            f"interval {s.seconds}s has no cron form; runs are started by hand",
            target="docstring",
        )
        return _Mode("run")
    if s.kind in ("datasets", "assets"):
        ctx.warn(
            "BL302",
            f"data-triggered schedule {s.datasets} has no Luigi form; runs are started by hand",
            target="docstring",
        )
    elif s.kind == "once":
        ctx.warn(
            "BL302",
            "schedule @once: start the single run by hand",
            severity="info",
            target="docstring",
        )
    return _Mode("run")


def _parse_date(iso: str | None) -> datetime | None:
    if not iso:
        return None
    try:
        return datetime.fromisoformat(iso)
    except ValueError:
        return None


# ---------------------------------------------------------------------------
# parameters


def _param_decl(value) -> str:
    """A luigi Parameter declaration whose default is ``value``."""
    if isinstance(value, bool):
        return f"luigi.BoolParameter(default={py_literal(value)})"
    if isinstance(value, int):
        return f"luigi.IntParameter(default={py_literal(value)})"
    if isinstance(value, float):
        return f"luigi.FloatParameter(default={py_literal(value)})"
    if isinstance(value, dict):
        return f"luigi.DictParameter(default={py_literal(value)})"
    if isinstance(value, list):
        return f"luigi.ListParameter(default={py_literal(value)})"
    if value is None:
        return "luigi.OptionalParameter(default=None)"
    return f"luigi.Parameter(default={py_literal(str(value))})"


# ---------------------------------------------------------------------------
# actions -> run() bodies (lists of lines, indented by the caller)


def _check_templates(text: str, ctx: _Ctx, task: Task) -> None:
    for m in _TEMPLATE.finditer(text):
        expr = m.group(1).strip()
        if expr in _KNOWN_TEMPLATES or _STRFTIME.fullmatch(expr) or literal.literal_value(expr):
            continue
        if expr.startswith("params.") and expr[len("params.") :] in ctx.param_attrs:
            continue
        ctx.warn(
            "BL403",
            f"template {m.group(0)!r} has no Luigi counterpart; kept verbatim",
            task=task,
            target="literal text",
        )


def _body(prefix: str, e: Expr) -> list[str]:
    """A statement of a run() body (lines relative to the body's indentation),
    laid out at the body's depth as ruff format lays it out."""
    return [line[8:] for line in statement(prefix, e, depth=2)]


def _fail_body(message: str) -> list[str]:
    return _body("raise ", Call("RuntimeError", [py_str(message)]))


def _run_shell(task: Task, ctx: _Ctx) -> list[str]:
    f = task.action.fields
    command = str(f.get("command") or "")
    if not command and f.get("exec"):
        # Program and arguments kept apart (Oozie): quote them into one line.
        command = shlex.join([str(f["exec"]), *(str(a) for a in f.get("args") or [])])
    _check_templates(command, ctx, task)
    args: list[Expr] = [py_str(command)]
    if env_mapping(f):
        env = {str(k): str(v) for k, v in env_mapping(f).items()}
        args.append(Kw("env", literal_expr(env, py_literal)))
    if f.get("cwd"):
        args.append(Kw("cwd", py_str(str(f["cwd"]))))
    if env_mapping(f) and f.get("env_replace"):
        args.append(Kw("replace_env", "True"))
    return _body("", Call("self.shell", args))


def _dotted(name) -> bool:
    return (
        isinstance(name, str)
        and bool(name)
        and all(p.isidentifier() and not keyword.iskeyword(p) for p in name.split("."))
    )


def _luigi_param_text(value) -> str:
    """A parameter value as the text Luigi's own parsers accept."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


def _run_python(task: Task, ctx: _Ctx) -> list[str]:
    f = task.action.fields
    module, func = f.get("module"), f.get("callable")
    if not (_dotted(module) and _dotted(func)):
        pasted = _pasted_call(task, ctx)
        if pasted is not None:
            return pasted
        ctx.warn(
            "BL401",
            f"python callable {func!r} has no importable module; the task fails with a message",
            task=task,
            severity="error",
            target="raise RuntimeError",
        )
        return _fail_body(f"wfconv: python callable {func} was not converted (module unknown)")
    head, _, rest = str(func).partition(".")
    if task.extra.get("luigi") and rest == "run":
        # A Luigi task read from a module: run the original task with its parameters.
        params = {str(k): _luigi_param_text(v) for k, v in task.params.items()}
        ctx.warn(
            "BL406",
            f"runs the original {module}.{head}.run() (the module must be "
            "importable where the pipeline runs)",
            task=task,
            severity="info",
            target=f"{head}.run()",
        )
        return [
            f"from {module} import {head}",
            "",
            *_body(
                "", Call(f"{head}.from_str_params", [literal_expr(params, py_literal)], ".run()")
            ),
        ]
    if rest == "run" and not f.get("op_args") and not f.get("op_kwargs"):
        # ``Class.run`` (a task read from another engine's module, or IR
        # written by hand): a class is built with the task's parameters first,
        # since its run() is a method; anything else is called as it is.
        params = {str(k): v for k, v in task.params.items()}
        ctx.warn(
            "BL406",
            f"runs {module}.{func}() (a class is built with the task's parameters "
            "first; the module must be importable where the pipeline runs)",
            task=task,
            severity="info",
            target=f"{head}.run()",
        )
        return [
            f"from {module} import {head}",
            "",
            f"owner = {head}(**{py_literal(params)}) if isinstance({head}, type) else {head}",
            "owner.run()",
        ]
    call_args = _call_args(f.get("op_args") or [], dict(f.get("op_kwargs") or {}))
    return [
        f"from {module} import {head}",
        "",
        *_body("", Call(func, call_args)),
    ]


def _call_args(op_args: list, kwargs: dict) -> list[Expr]:
    """A callable's positional and keyword arguments (keywords that are not
    identifiers passed as ``**{...}``), laid out as ruff format would."""
    args: list[Expr] = [literal_expr(a, py_literal) for a in op_args]
    plain = {k: v for k, v in kwargs.items() if _dotted(k) and "." not in k}
    args += [Kw(k, literal_expr(v, py_literal)) for k, v in plain.items()]
    rest = {k: v for k, v in kwargs.items() if k not in plain}
    return args + ([f"**{py_literal(rest)}"] if rest else [])


def _pasted_call(task: Task, ctx: _Ctx) -> list[str] | None:
    """A callable without a module whose function the frontend kept
    (``source_code``) and that needs nothing from its original module: pasted
    into the generated module and called with the task's arguments and the
    context names it asks for. None when that cannot work."""
    f = task.action.fields
    original = str(f.get("callable") or "")
    known = ctx.functions.get(original)
    alias = known[0] if known else f"wfconv_fn_{len(ctx.functions) + 1}"
    fs = function_source(f.get("source_code"), alias)
    if fs is None or fs.free_names:
        return None
    fn = ast.parse(fs.text).body[0]
    required = fs.params[: len(fs.params) - len(fn.args.defaults)]
    op_args = list(f.get("op_args") or [])
    kwargs = dict(f.get("op_kwargs") or {})
    if len(op_args) > len(fs.params) and fn.args.vararg is None:
        return None
    wanted = [p for p in fs.params[len(op_args) :] if p in _CONTEXT_NAMES and p not in kwargs]
    missing = [p for p in required[len(op_args) :] if p not in kwargs and p not in _CONTEXT_NAMES]
    if (
        missing
        or fn.args.kwonlyargs
        and any(
            d is None and a.arg not in kwargs
            for a, d in zip(fn.args.kwonlyargs, fn.args.kw_defaults, strict=True)
        )
    ):
        return None
    ctx.functions.setdefault(original, (alias, fs.text, task.id))
    args = _call_args(op_args, kwargs)
    args += [Kw(p, f"context[{py_str(p)}]") for p in wanted]
    lines = ["context = self.context()"] if wanted or fs.varkw else []
    if fs.varkw:
        skip = sorted(set(fs.params) | set(kwargs))
        lines.append(f"extra = {{k: v for k, v in context.items() if k not in {py_literal(skip)}}}")
        args.append("**extra")
    ctx.warn(
        "BL407",
        f"function {original!r} (kept by the frontend) is pasted into the module as "
        f"{alias}; the Airflow context names it asks for come from the run "
        f"({', '.join(_CONTEXT_NAMES)})",
        task=task,
        severity="info",
        target=alias,
    )
    return [*lines, *_body("", Call(alias, args))]


def _run_empty(task: Task, ctx: _Ctx) -> list[str]:
    return []


def _run_fail(task: Task, ctx: _Ctx) -> list[str]:
    return _fail_body(str(task.action.fields.get("message") or f"{task.id} fails the run"))


def _run_branch(task: Task, ctx: _Ctx) -> list[str]:
    ctx.warn(
        "BL104",
        "branch: Luigi has no skipped state, so every downstream path runs "
        "(the choice is not made)",
        task=task,
        target="plain task",
    )
    f = task.action.fields
    if f.get("module") and f.get("callable"):
        return _run_python(task, ctx)
    return []


def _polls(task: Task) -> bool:
    """Is the task the polling loop of a file sensor (``_run_sensor``)? Its
    loop fails only when its time is up, which Airflow never retries."""
    f = task.action.fields
    return (
        task.action.kind == "sensor" and f.get("sensor") == "FileSensor" and bool(f.get("target"))
    )


def _run_sensor(task: Task, ctx: _Ctx) -> list[str]:
    f = task.action.fields
    target = f.get("target")
    if f.get("sensor") == "FileSensor" and target:
        poke = float(f.get("poke_interval_s") or 60)
        timeout = float(f.get("timeout_s") or 7 * 24 * 3600)
        ctx.warn(
            "BL402",
            f"FileSensor polls {target!r} every {poke:g}s inside the task "
            "(a worker slot is held while waiting)",
            task=task,
            target="polling run()",
        )
        return _body(
            "", Call("self.wait_for_file", [py_str(str(target)), repr(poke), repr(timeout)])
        )
    ctx.warn(
        "BL401",
        f"sensor {f.get('sensor')!r} has no Luigi counterpart; the task fails",
        task=task,
        severity="error",
        target="raise RuntimeError",
    )
    return _fail_body(f"wfconv: sensor {f.get('sensor')} was not converted")


def _run_email(task: Task, ctx: _Ctx) -> list[str]:
    f = task.action.fields
    to = f.get("to") or []
    to = [to] if isinstance(to, str) else [str(x) for x in to]
    ctx.warn(
        "BL404",
        "email sent with luigi.notifications.send_email (configure [email])",
        task=task,
        severity="info",
        target="send_email",
    )
    copies = []
    for key in ("cc", "bcc"):
        more = f.get(key) or []
        copies += [more] if isinstance(more, str) else [str(x) for x in more]
    if copies:
        to += [c for c in copies if c not in to]
        ctx.warn(
            "BL404",
            "cc/bcc recipients become plain recipients (send_email has one list)",
            task=task,
            target="send_email recipients",
        )
    return [
        "import luigi.notifications",
        "",
        *_body(
            "",
            Call(
                "luigi.notifications.send_email",
                [
                    Call("self.render", [py_str(str(f.get("subject") or ""))]),
                    Call("self.render", [py_str(str(f.get("body") or ""))]),
                    "luigi.notifications.email().sender",
                    literal_expr(to, py_literal),
                ],
            ),
        ),
    ]


def _run_container(task: Task, ctx: _Ctx) -> list[str]:
    f = task.action.fields
    argv = ["docker", "run", "--rm", str(f.get("image") or "")]
    argv += [str(a) for a in (f.get("cmds") or [])] + [str(a) for a in (f.get("arguments") or [])]
    ctx.warn("BL405", "container run with `docker run` in a shell", task=task, target="docker run")
    return _body("", Call("self.shell", [py_str(shlex.join(argv))]))


def _run_unsupported(task: Task, ctx: _Ctx) -> list[str]:
    kind = task.action.kind
    what = task.action.fields.get("type") or task.action.fields.get("engine") or kind
    ctx.warn(
        "BL401",
        f"{kind} action ({what}) cannot run in Luigi; the task fails with a message",
        task=task,
        severity="error",
        target="raise RuntimeError",
    )
    return _fail_body(f"wfconv: {kind} action {what} was not converted to Luigi")


RUNS = {
    "shell": _run_shell,
    "python": _run_python,
    "empty": _run_empty,
    "fail": _run_fail,
    "branch": _run_branch,
    "sensor": _run_sensor,
    "email": _run_email,
    "container": _run_container,
}


# ---------------------------------------------------------------------------
# classes


def _class_code(
    task: Task,
    cls: str,
    requires: list[str],
    ctx: _Ctx,
    base: str,
    handler: bool = False,
) -> str:
    """A task's class. Its requirements are ``@requires(...)`` (luigi.util:
    the same run and parameters) unless the task is an error handler, which
    passes the failed task along, or ``ctx.explicit_requires`` (a task with
    parameters of its own, which @requires would hand to the tasks after it)."""
    kind = task.action.kind
    lines: list[str] = []
    if kind == "external":
        out = task.action.fields.get("output") or (task.outputs[0] if task.outputs else None)
        lines.append(f"class {cls}(luigi.ExternalTask, {base}):")
        lines.append(f"    {py_str(f'Data produced outside this workflow (task {task.id}).')}")
        lines.append("")
        lines.append(f"    task_id_original = {py_str(task.id)}")
        if out:
            lines.append("")
            lines.append("    def output(self):")
            lines.append(f"        return luigi.LocalTarget(self.render({py_str(str(out))}))")
        return "\n".join(lines)
    decorated = bool(requires) and not handler and not ctx.explicit_requires
    if decorated:
        lines += statement("@", Call("requires", list(requires)))
        ctx.uses_requires = True
    lines.append(f"class {cls}({base}):")
    if task.doc and task.doc.strip():
        lines.append(f"    {py_str(task.doc.strip().splitlines()[0])}")
        lines.append("")
    lines.append(f"    task_id_original = {py_str(task.id)}")
    if task.retries > 0 and not _polls(task):
        lines.append(f"    retry_count = {task.retries + 1}")
    if task.timeout_s:
        lines.append(f"    worker_timeout = {int(-(-float(task.timeout_s) // 1))}")
    if handler:
        lines.append("    # Started by the upstream's FAILURE event (trigger rule one_failed),")
        lines.append("    # not through requires(): the failed task's id is a parameter, not")
        lines.append("    # part of its identity (it runs once per run, whoever failed).")
        lines.append("    failed_task = luigi.Parameter(significant=False)")
    for name, value in task.params.items():
        attr = name
        if (
            not (isinstance(attr, str) and attr.isidentifier() and attr.isascii())
            or keyword.iskeyword(attr)
            or attr in _TASK_ATTRS
            or attr in ctx.param_attrs.values()
        ):
            if attr in ctx.param_attrs.values() or attr in ("date", "date_hour", "run_id"):
                continue  # the shared parameter of the same name carries it
            ctx.warn(
                "BL503",
                f"task parameter {name!r} cannot be a Luigi parameter name; dropped",
                task=task,
                target="none",
            )
            continue
        lines.append(f"    {attr} = {_param_decl(value)}")
    if task.pool:
        lines.append("")
        lines.append("    @property")
        lines.append("    def resources(self):")
        lines.append(f"        return {py_literal({str(task.pool): 1})}")
    if requires and not decorated:
        lines.append("")
        lines.append("    def requires(self):")
        extra = "failed_task=self.failed_task, " if handler else ""
        items: list[Expr] = [f"{r}({extra}**self.shared())" for r in requires]
        lines += statement("return ", list_of(items), depth=2)
    body = RUNS.get(kind, _run_unsupported)(task, ctx)
    lines.append("")
    lines.append("    def run(self):")
    for b in body:
        lines.append(("        " + b) if b else "")
    # (the last statement: a line that does not continue one laid out on several)
    starts = [b for b in body if b and not b[0].isspace() and b[0] not in ")]}"]
    if not (starts and starts[-1].startswith("raise ")):
        lines.append("        self.mark_done()")
    return "\n".join(lines)


def _retrying(w: Workflow) -> list[Task]:
    """The tasks whose retries the module writes (not a sensor's, BL205)."""
    return [t for t in w.tasks if t.retries > 0 and not _polls(t)]


def retry_delay(w: Workflow) -> float | None:
    """The scheduler retry_delay the generated main() sets: Luigi has one for
    every task, so the fixed delay most retrying tasks use (None: no task
    retries)."""
    delays = [
        float(t.retry_delay_s if t.retry_delay_s is not None else LUIGI_RETRY_DELAY_S)
        for t in _retrying(w)
        if not isinstance(t.retry_delay_s, list)
    ]
    if not delays:
        return LUIGI_RETRY_DELAY_S if _retrying(w) else None
    return max(dict.fromkeys(delays), key=delays.count)


def _disable_window(w: Workflow, delay: float | None) -> int | None:
    """Luigi forgets failures older than [scheduler] disable_window (3600 s):
    a longer retry sequence would retry without end. None when 3600 s is enough
    (``delay``: the scheduler's retry_delay, see retry_delay())."""
    if delay is None:
        return None
    tries = max(t.retries for t in _retrying(w)) + 1
    span = int(tries * (delay + 60))
    return span if span > 3600 else None


def _constant(name: str, value: object) -> str:
    """``NAME = value`` laid out as ruff format lays it out."""
    return "\n".join(statement(f"{name} = ", literal_expr(value, py_literal)))


def _task_losses(w: Workflow, ctx: _Ctx) -> None:
    keep_alive_said = False
    chosen = retry_delay(w)
    for t in w.tasks:
        if t.retries > 0 and _polls(t):
            ctx.warn(
                "BL205",
                f"retries={t.retries} not written: the sensor's polling loop fails only on "
                "its timeout, which Airflow never retries",
                task=t,
                target="no retry_count",
            )
        elif t.retries > 0:
            delay = t.retry_delay_s
            if isinstance(delay, list) or t.retry_backoff == "exponential" or t.max_retry_delay_s:
                ctx.warn(
                    "BL202",
                    f"retry delays {delay!r} ({t.retry_backoff}) become Luigi's "
                    f"fixed global retry_delay ({chosen:g}s)",
                    task=t,
                    target="retry_count",
                )
            elif delay is not None and float(delay) != chosen:
                ctx.warn(
                    "BL201",
                    f"retry delay {delay:g}s is not per task in Luigi: the scheduler's one "
                    f"retry_delay is {chosen:g}s (the delay most retrying tasks use)",
                    task=t,
                    target="[scheduler] retry_delay",
                )
            if not keep_alive_said:
                keep_alive_said = True
                ctx.warn(
                    "BL203",
                    "main() turns on the worker's keep_alive and sets the scheduler's "
                    f"retry_delay ({chosen:g}s) unless luigi.cfg says otherwise; started "
                    "another way (luigi --module), retries need both "
                    "(retry_count = retries + 1 total failures)",
                    severity="info",
                    target="retry_count",
                )
        if t.timeout_s:
            whole = int(-(-float(t.timeout_s) // 1))
            ctx.warn(
                "BL204",
                f"timeout {t.timeout_s:g}s as worker_timeout {whole}: Luigi runs a task "
                "that has one in its own process and terminates it when over (a TIMEOUT "
                "event, which starts its error handlers too)"
                + ("; rounded up to whole seconds" if whole != float(t.timeout_s) else ""),
                task=t,
                severity="info" if whole == float(t.timeout_s) else "warning",
                target="worker_timeout",
            )
        if t.mapped:
            ctx.warn(
                "BL501",
                "dynamic task mapping dropped: the task runs once",
                task=t,
                target="single task",
            )
        if t.depends_on_past:
            ctx.warn("BL501", "depends_on_past dropped", task=t, target="none")
        if t.owner:
            ctx.warn("BL501", f"owner {t.owner!r} dropped", task=t, target="none")
        if t.role is not None:
            ctx.warn(
                "BL501",
                f"{t.role} role dropped: a setup further upstream no longer stops the tasks "
                "after it; a teardown neither waits for its scope nor is left out of the run's state",
                task=t,
                target="none",
            )
        if t.pool:
            ctx.warn(
                "BL501",
                f"pool {t.pool!r} as a Luigi resource of 1 slot (set its capacity in [resources])",
                task=t,
                severity="info",
                target="resources",
            )
    if w.groups:
        ctx.warn(
            "BL502",
            f"{len(w.groups)} task group(s) flattened",
            severity="info",
            target="flat classes",
        )
    if w.timeout_s:
        ctx.warn("BL501", "workflow timeout dropped", target="none")
    if w.max_active_runs:
        ctx.warn(
            "BL501",
            "max_active_runs dropped (one luigi.build per cron call)",
            severity="info",
            target="none",
        )


def _rules(w: Workflow, ctx: _Ctx, handler_ids: set[str]) -> None:
    for t in w.tasks:
        r = t.trigger_rule
        if r == "all_success" or t.id in handler_ids:
            continue
        ups = w.upstream(t.id)
        if not ups:
            continue
        ctx.warn(
            "BL101",
            f"trigger rule {r}: Luigi runs it only after every requirement "
            f"({', '.join(ups)}) succeeded; a failed or skipped requirement blocks it",
            task=t,
            target="requires()",
        )


def emit(workflow: Workflow, **options) -> Emitted:
    """One Python module ``<workflow>.py``."""
    routed = dissolve_routing(workflow)
    w = routed.workflow
    if w.catchup is None and w.schedule.kind in ("cron", "interval"):
        # Unset: the default of the source engine's time model (off in Airflow 3).
        w = dataclasses.replace(w, catchup=effective_catchup(w))
    diags: list[Diagnostic] = []
    param_attrs = identifier_map(list(w.params), reserved=_TASK_ATTRS, style="snake")
    ctx = _Ctx(w, diags, param_attrs)
    mode = _mode(w, ctx)
    # A schedule in a timezone: dates and times of day are wall-clock times there.
    tz = w.schedule.timezone if w.schedule.timezone not in (None, "", "UTC") else None
    if tz and not _known_timezone(tz):
        ctx.warn(
            "BL301",
            f"timezone {tz!r} is not one Python's zoneinfo knows: run dates are taken in UTC",
            target="timezone",
        )
        tz = None
    # A trigger-model schedule (Airflow 3 cron, Prefect, Oozie): the run for a
    # tick is due at the tick and its data interval is the tick.
    trigger = mode.mode in ("daily", "hourly") and w.schedule.time_model == TRIGGER
    ids = w.task_ids()
    known = set(ids)
    # Edges: normal ones become requires(); error ones (and the inputs of
    # one_failed / all_failed tasks) become FAILURE handlers.
    paths = error_paths(w)
    normal, errors = paths.normal, paths.errors
    main, handlers = set(paths.main), set(paths.handlers)
    for a, b in list(normal):
        if a in handlers and b in main:
            normal.remove((a, b))
            ctx.warn(
                "BL103",
                f"edge {a!r} -> {b!r} from an error-handler path into the main path dropped",
                task=w.task(b),
                target="none",
            )
    _rules(w, ctx, handlers)
    for rid, after in routed.redirects.items():
        ctx.warn(
            "BL106",
            "routing task (an Oozie transition modelled as a task) dissolved: its "
            f"upstream tasks lead straight to {', '.join(after) or 'the end'}",
            task=workflow.task(rid),
            target="requires() / FAILURE handler",
        )
    for tid in sorted(routed.error_to_end, key=ids.index):
        ctx.warn(
            "BL105",
            "its error path ends the workflow successfully in the source (Oozie "
            "error -> end); in Luigi the failure fails the run",
            task=w.task(tid),
            target="failed run",
        )

    cls = identifier_map(ids, reserved=_RESERVED_CLASSES, style="class")
    root_cls = identifier_map([w.id], reserved=(*_RESERVED_CLASSES, *cls.values()), style="class")[
        w.id
    ]
    if not root_cls.endswith("Workflow"):
        root_cls = identifier_map(
            [root_cls + "Workflow"], reserved=(*_RESERVED_CLASSES, *cls.values()), style="class"
        )[root_cls + "Workflow"]
    stem_cls = root_cls.removesuffix("Workflow") or "Workflow"
    base_cls = identifier_map(
        [stem_cls + "Task"], reserved=(*_RESERVED_CLASSES, *cls.values(), root_cls), style="class"
    )[stem_cls + "Task"]
    root_family = w.id if w.id not in known else f"{w.id}.workflow"
    ctx.warn(
        "BL001",
        f"root WrapperTask {root_cls} (family {root_family!r}) requires the "
        "workflow's final tasks; reading the module back lists it as one more task",
        severity="info",
        target=root_cls,
    )
    ident = {"daily": "date", "hourly": "date_hour"}.get(mode.mode, "run_id")
    ctx.warn(
        "BL002",
        f"every task has the run parameter {ident!r} (part of its identity) and "
        "the workflow parameters",
        severity="info",
        target=ident,
    )

    _task_losses(w, ctx)
    tasks = {t.id: t for t in w.tasks}
    ctx.explicit_requires = any(t.params for t in w.tasks)
    ups: dict[str, list[str]] = {}  # (one pass: a scan per task was quadratic)
    for a, b in normal:
        ups.setdefault(b, []).append(a)
    classes = []
    # @requires names its upstream classes: they come first.
    for tid in topo_order(w):
        if tid in handlers:
            continue
        reqs = [cls[a] for a in ups.get(tid, [])]
        classes.append(
            {"code": _class_code(tasks[tid], cls[tid], list(dict.fromkeys(reqs)), ctx, base_cls)}
        )
    handler_code: list[str] = []
    for tid in ids:
        if tid in handlers:
            reqs = [cls[a] for a in ups.get(tid, []) if a in handlers]
            handler_code.append(
                _class_code(
                    tasks[tid], cls[tid], list(dict.fromkeys(reqs)), ctx, base_cls, handler=True
                )
            )
    # FAILURE events start the handler path (the handler and what follows it).
    succ_h: dict[str, list[str]] = {}
    for a, b in normal:
        if a in handlers:
            succ_h.setdefault(a, []).append(b)
    order = {t: i for i, t in enumerate(ids)}
    for src in ids:
        if src not in errors:
            continue
        chain: list[str] = []
        todo = list(errors[src])
        while todo:
            n = todo.pop(0)
            if n not in chain and n in handlers:
                chain.append(n)
                todo.extend(succ_h.get(n, []))
        chain = _topo_subset(chain, normal, order)
        if not chain:
            continue
        for member in chain:
            ctx.warn(
                "BL102",
                f"runs from {src!r}'s FAILURE event (after every failed attempt, not "
                f"once after the last retry; handler path {', '.join(chain)}), not "
                "through requires()",
                task=tasks[member],
                target="event_handler(luigi.Event.FAILURE)",
            )
        fn = "on_failure_" + cls[src].lower()
        # A timed-out task is terminated with a TIMEOUT event, not FAILURE.
        timeout = (
            [f"@{cls[src]}.event_handler(luigi.Event.TIMEOUT)"] if tasks[src].timeout_s else []
        )
        code = [
            *timeout,
            f"@{cls[src]}.event_handler(luigi.Event.FAILURE)",
            f"def {fn}(task, exception):",
            *statement(
                "",
                Call("wfconv_luigi.run_handlers", ["task", _tuple(cls[c] for c in chain)]),
                depth=1,
            ),
        ]
        handler_code.append("\n".join(code))

    has_downstream = {a for a, _ in normal}
    sinks = [t for t in ids if t in main and t not in has_downstream]
    if w.catchup is not None and mode.mode in ("daily", "hourly") and w.catchup:
        ctx.warn(
            "BL303",
            "catchup: each call runs at most 50 incomplete intervals "
            "(RangeDaily/RangeHourly task_limit)",
            severity="info",
            target="catch_up()",
        )
    start = _parse_date(w.start_date)
    stop = _parse_date(w.end_date)

    def when(d: datetime | None) -> str | None:
        if d is None or mode.mode not in ("daily", "hourly"):
            return None
        if mode.mode == "daily":
            return f"datetime.date({d.year}, {d.month}, {d.day})"
        return f"datetime.datetime({d.year}, {d.month}, {d.day}, {d.hour})"

    cron_doc = mode.cron if mode.cron and _CRON_SAFE.fullmatch(mode.cron) else None
    stem = file_stem(w.id)
    module_file = stem + ".py"
    cron_line = None
    if cron_doc and mode.mode == "run":
        cron_line = (
            f"{cron_doc} cd /path/to/this/folder && "
            f"{RUN_ENV}=$(date -u +\\%Y\\%m\\%dT\\%H\\%M) python {module_file}"
        )
    schedule_doc = {
        "once": "it runs once: start it with",
        "manual": "no schedule: start runs with",
    }.get(w.schedule.kind, "its schedule has no Luigi form: start runs with")
    if mode.mode == "run" and cron_doc:
        lost = [
            what
            for what, value in (
                ("start date", w.start_date),
                ("end date", w.end_date),
                ("catchup", w.catchup),
            )
            if value
        ]
        if lost:
            ctx.warn(
                "BL304",
                f"{', '.join(lost)} not kept: the cron line runs from when it is "
                "installed, one run per call, and never catches up",
                target="cron line",
            )
    if mode.mode != "run" or cron_doc:
        ctx.warn(
            "BL301",
            "Luigi has no scheduler: the schedule is the cron line in the module "
            "docstring"
            + (" and catch_up() (RangeDaily/RangeHourly)" if mode.mode != "run" else ""),
            severity="info",
            target="cron line",
        )
    params = [{"attr": param_attrs[k], "decl": _param_decl(v)} for k, v in w.params.items()]
    delay = retry_delay(w)
    window = _disable_window(w, delay)
    main_args: list[Expr] = [root_cls]
    if delay is not None:
        main_args.append("RETRY_DELAY_S")
    if window is not None:
        main_args.append(Kw("disable_window", str(window)))
    root_requires = ""
    if sinks:
        if ctx.explicit_requires:
            root_requires = "\n".join(
                [
                    "",
                    "    def requires(self):",
                    *statement(
                        "return ", list_of([f"{cls[s]}(**self.shared())" for s in sinks]), depth=2
                    ),
                ]
            )
        else:
            ctx.uses_requires = True
    root_decorator = (
        "\n".join(statement("@", Call("requires", [cls[s] for s in sinks]))) + "\n"
        if sinks and not ctx.explicit_requires
        else ""
    )
    # the workflow's description (the root task's class holds no docstring)
    base_doc = (
        py_str(w.description.strip().splitlines()[0]) if (w.description or "").strip() else ""
    )
    code = render(
        "luigi_module.py.j2",
        mode=mode.mode,
        cron_doc=cron_doc,
        cron_line=cron_line,
        timezone_doc=f"timezone {w.schedule.timezone}"
        if _CRON_SAFE.fullmatch(w.schedule.timezone or "")
        or re.fullmatch(r"[A-Za-z0-9_+\-/]+", w.schedule.timezone or "")
        else "timezone: see SCHEDULE",
        schedule_doc=schedule_doc,
        module_file=module_file,
        root_cls=root_cls,
        root_family=root_family,
        base_cls=base_cls,
        base_doc=base_doc,
        run_base={"daily": "DailyTask", "hourly": "HourlyTask"}.get(mode.mode, "RunTask"),
        retry_delay=delay,
        root_decorator=root_decorator,
        root_requires=root_requires,
        workflow_id=w.id,
        schedule_line=_constant("SCHEDULE", _schedule_dict(w, mode, cron_doc, trigger)),
        run_env=RUN_ENV,
        param_attrs_line=_constant("PARAM_ATTRS", param_attrs),
        renamed=any(k != a for k, a in param_attrs.items()),
        main_call="\n".join(
            statement("raise ", Call("SystemExit", [Call("wfconv_luigi.main", main_args)]), depth=1)
        ),
        uses_requires=ctx.uses_requires,
        params=params,
        at_hour=mode.at_hour if mode.mode == "daily" else 0,
        at_minute=mode.at_minute if mode.mode in ("daily", "hourly") else 0,
        trigger=trigger,
        timezone=tz if mode.mode in ("daily", "hourly") else None,
        classes=classes,
        handlers=handler_code,
        functions=[
            {"text": text.rstrip("\n"), "task": task_id}
            for _, text, task_id in ctx.functions.values()
        ],
        start=when(start),
        stop=when(stop),
        catchup=w.catchup,
        dates=bool(when(start) or when(stop)),
    )
    if tz and mode.mode != "run":
        ctx.warn(
            "BL301",
            f"timezone {tz!r}: run dates are wall-clock dates there, but the cron line "
            "runs in the host's timezone (set it, or CRON_TZ, to run at the source's times)",
            target="cron line",
        )
    files = {module_file: format_python(code, module_file)}
    files[HELPER_MODULES[0]] = HELPER_SOURCE_PATH.read_text(encoding="utf-8")
    return Emitted(files, ctx.diags, shared=set(HELPER_MODULES))


def _known_timezone(name: str) -> bool:
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(name)
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        return False
    return True


def _tuple(names) -> str:
    names = list(names)
    return f"({names[0]},)" if len(names) == 1 else "(" + ", ".join(names) + ")"


def _topo_subset(
    nodes: list[str], edges: list[tuple[str, str]], order: dict[str, int]
) -> list[str]:
    members = set(nodes)
    indeg = dict.fromkeys(nodes, 0)
    for a, b in edges:
        if a in members and b in members:
            indeg[b] += 1
    ready = sorted((n for n in nodes if indeg[n] == 0), key=order.__getitem__)
    out: list[str] = []
    while ready:
        n = ready.pop(0)
        out.append(n)
        for a, b in edges:
            if a == n and b in members:
                indeg[b] -= 1
                if indeg[b] == 0:
                    ready.append(b)
                    ready.sort(key=order.__getitem__)
    return out


def _schedule_dict(w: Workflow, mode: _Mode, cron_doc: str | None, trigger: bool) -> dict:
    """The source's schedule, dates and catchup (Luigi holds none of them), and
    how the module carries the schedule out: ``runs_by`` catch_up() (Range*
    over the intervals of the cron ``runs_at``, in the time ``model``), a cron
    line, or by hand. The Luigi frontend reads this back for the modules
    wfconv writes; a key left out has its default (``timezone`` UTC, ``model``
    data interval, ``cron`` the same as ``runs_at``)."""
    s = w.schedule
    out: dict = {"kind": s.kind}
    if s.timezone not in (None, "UTC"):
        out["timezone"] = s.timezone  # (UTC when not said)
    if mode.mode in ("daily", "hourly") and mode.cron:
        out["runs_by"], out["runs_at"] = "catch_up()", mode.cron
        if trigger:
            out["model"] = "trigger"  # (data intervals when not said)
    elif cron_doc:
        out["runs_by"], out["runs_at"] = "cron line", cron_doc
    # (else run by hand: the default)
    # the source's own spelling, where the module runs another one
    if s.cron is not None and s.cron != out.get("runs_at"):
        out["cron"] = s.cron
    if s.seconds is not None:
        out["seconds"] = s.seconds
    if s.datasets:
        out["datasets"] = list(s.datasets)
    if w.start_date:
        out["start_date"] = w.start_date
    if w.end_date:
        out["end_date"] = w.end_date
    if w.catchup is not None:
        out["catchup"] = w.catchup
    return out
