"""IR -> a Prefect 3 flow module: one ``@task`` per task and one ``@flow``.

Two shapes, chosen per workflow:

- *plain*: every trigger rule is all_success / all_done / always and there are
  no branches. Tasks are submitted with ``.submit(wait_for=[...])``
  (``allow_failure`` for all_done), which is Prefect's own idiom and what the
  Prefect frontend reads back exactly.
- *gated*: some rule needs Airflow's states (skipped, upstream_failed) or a
  branch chooses downstreams. Then every task with upstreams receives them as
  ``upstream=allow_failure({...})`` and starts with ``wfconv_gate(rule, ...)``,
  a generated function that evaluates Airflow's trigger rule (docs/semantics.md R1);
  a skipped task returns a Completed state named ``Skipped``. The flow body
  stays a straight list of submits: nothing blocks, so parallelism is kept.

The flow ends with ``wfconv_finish``: Prefect marks a flow Completed even when
tasks failed, Airflow fails a run whose leaf failed, so the generated flow
returns a Failed state in that case. Airflow-style Jinja (``{{ ds }}``) is
rendered at run time by a generated ``wfconv_render`` from the flow run's
scheduled start time and parameters. Everything else Prefect cannot say is a
``loss()`` in the ledger (codes ``CODES``).
"""

from __future__ import annotations

import datetime as _dt
import functools
import itertools
import re
import shlex
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from wfconv.backends import decisions as dec
from wfconv.backends.common import (
    KNOWN_ACTION_FIELDS,
    Code,
    Emitted,
    GraphIndex,
    callable_imports_for,
    compact_number,
    cron_field_values,
    env_mapping,
    file_stem,
    format_python,
    function_source,
    hadoop_command,
    identifier_map,
    import_block,
    is_dotted_name,
    local_functions,
    loss,
    luigi_task_class,
    mapped_columns,
    py_comment,
    py_literal,
    py_str,
    render,
    retry_delays,
    shell_command,
    xcom_ref,
)
from wfconv.errors import InputError
from wfconv.ir.model import TRIGGER, Diagnostic, Task, Workflow
from wfconv.ir.roles import RoleFacts, role_facts
from wfconv.runtime.schedule import run_after_bounds

TARGET = "prefect"

CODES: dict[str, str] = {
    "BP101": "python callable without a known module: the task raises NotImplementedError",
    "BP102": "decision case with no Python translation over the parameters: left out, never matches",
    "BP103": "branch task without callable or cases: every downstream is followed",
    "BP104": "sensor emitted as a polling task",
    "BP105": "action without a Prefect equivalent: the task raises NotImplementedError or runs a placeholder command",
    "BP106": "Luigi ExternalTask: the task checks that the output exists",
    "BP107": "sub-workflow emitted as a nested flow run (child in the bundle) or run_deployment",
    "BP108": "email sent with smtplib on localhost",
    "BP109": "container run with docker",
    "BP110": "mapped task: product expanded to zipped lists / run-time input not mapped",
    "BP111": "data passed between tasks: emitted as ordering only",
    "BP112": "trigger rule emulated by wfconv_gate, which applies Airflow's rule table in the task",
    "BP113": "trigger rule 'always' waits for upstream tasks to finish",
    "BP114": "template variable without a Prefect equivalent (renders empty)",
    "BP115": "text is not valid Jinja: kept verbatim, not rendered",
    "BP116": "template dates derived from the scheduled start time in the source's time model",
    "BP117": "task setting without a Prefect equivalent dropped (pool, queue, depends_on_past, outputs)",
    "BP118": "action fields the Prefect backend does not know were dropped",
    "BP119": "exponential backoff expanded to per-attempt delays (Airflow's lower bound)",
    "BP120": "short-circuit skipping descendants regardless of their trigger rules is approximated",
    "BP121": "sensor soft_fail: the sensor task is skipped on timeout",
    "BP122": "empty task or flow id: Prefect uses the function name",
    "BP123": "Luigi task: its run() is called outside Luigi (requires()/output() not checked)",
    "BP124": "sub-workflow with propagate_configuration: this run's parameters are passed to the child",
    "BP125": "task groups flattened (Prefect has no task groups)",
    "BP126": "fail/kill task raises: running tasks are not stopped, KILLED becomes Failed",
    "BP127": "branch task emulated (returns ids; wfconv_gate skips the rest)",
    "BP128": "shell command computed at run time (template or mapping): read back as a python task",
    "BP129": "setup/teardown task: Airflow's rules emulated by wfconv_gate",
    "BP130": "flow name with characters Prefect refuses (/ % & < >): replaced by _",
    "BP201": "catchup: Prefect never creates runs for past schedule times",
    "BP202": "start_date/end_date not expressible (interval end; cron without an RRULE spelling)",
    "BP203": "dataset/asset schedule: needs a Prefect automation (served without schedule)",
    "BP204": "schedule 'once': the flow runs once when the module is run",
    "BP205": "parameter name is not a Python identifier: renamed",
    "BP206": "schedule timezone unknown: UTC used",
    "BP207": "run timeout emitted as flow timeout_seconds (unfinished tasks are not marked skipped)",
}

# Rules Prefect expresses natively (with allow_failure for the last two).
_NATIVE_RULES = {"all_success": False, "all_done": True, "always": True}

# Jinja names wfconv_context() provides.
_CONTEXT_NAMES = {
    "ds",
    "ds_nodash",
    "ts",
    "ts_nodash",
    "ts_nodash_with_tz",
    "logical_date",
    "data_interval_start",
    "data_interval_end",
    "run_id",
    "params",
    "dag",
    "macros",
}

_SENSOR_DEFAULT_POKE = 60
_SENSOR_DEFAULT_TIMEOUT = 7 * 24 * 3600


_MODULE_NAMES = (
    "annotations",
    "wfconv_decide",
    "WFCONV_DECISIONS",
    "fs_exists",
    *dec.helper_names(),
    "datetime",
    "glob",
    "jinja2",
    "os",
    "smtplib",
    "subprocess",
    "time",
    "flow",
    "task",
    "allow_failure",
    "unmapped",
    "Completed",
    "Failed",
    "Cron",
    "Interval",
    "RRule",
    "wfconv_glob",
    "flow_run",
    "run_deployment",
    "EmailMessage",
    "UpstreamFailed",
    "upstream",
    "WFCONV_SKIPPED",
    "WFCONV_PARAMS",
    "WFCONV_PARAM_NAMES",
    "WFCONV_WORKFLOW_ID",
    "WFCONV_SCHEDULE",
    "wfconv_backfill",
    "wfconv_ticks",
    "wfconv_no_retry_when_upstream_failed",
    "wfconv_upstream_status",
    "wfconv_gate",
    "wfconv_skipped",
    "wfconv_final_status",
    "wfconv_is_upstream_failure",
    "wfconv_finish",
    "wfconv_ds_add",
    "wfconv_ds_format",
    "wfconv_context",
    "wfconv_render",
    "wfconv_poll",
    "context",
)


@dataclass
class _TaskView:
    fn: str
    options: list[tuple[str, Any]]
    params: list[str]
    body: list[str]
    gate: dict[str, Any] | None = None
    doc: str | None = None
    # upstream ids whose values the body reads from ``upstream``
    data: list[str] = field(default_factory=list)
    # upstream ids whose output a mapped task maps over (passed to .map)
    mapped_from: list[str] = field(default_factory=list)
    # mapped tasks: IR field -> task parameter, and the .map() arguments
    mapped: dict[str, str] | None = None
    map_args: list[tuple[str, str]] | None = None


@dataclass
class _Ctx:
    workflow: Workflow
    losses: list[Diagnostic] = field(default_factory=list)
    modules: set[str] = field(default_factory=set)  # stdlib/third-party plain imports
    names: dict[str, set[str]] = field(default_factory=dict)  # from-imports
    helpers: set[str] = field(default_factory=set)
    decisions: list[dec.Decision] = field(default_factory=list)
    callables: dict[tuple[str | None, str], int] = field(default_factory=dict)
    kept: dict[str, tuple[Any, Task]] = field(default_factory=dict)
    # the bundle's workflows by id (CLI option ``workflows``)
    workflows: dict[str, Workflow] = field(default_factory=dict)
    g: GraphIndex = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.g is None:
            self.g = GraphIndex.of(self.workflow)

    def add(self, d: Diagnostic) -> None:
        self.losses.append(d)

    def need(self, module: str, name: str | None = None) -> None:
        if name is None:
            self.modules.add(module)
        else:
            self.names.setdefault(module, set()).add(name)


# --- strings and templates ---------------------------------------------------------


def _has_template(text: str) -> bool:
    return "{{" in text or "{%" in text


_SIMPLE_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\s*\}\}")


@functools.lru_cache(maxsize=4096)
def _jinja_names(text: str) -> tuple[str | None, frozenset[str]]:
    """(syntax error message or None, undeclared names) of a Jinja template."""
    import jinja2
    from jinja2 import meta

    # Fast path for the common case, plain ``{{ ds }}`` / ``{{ params.x }}``:
    # parsing with Jinja costs about 0.5 ms per distinct string.
    simple = _SIMPLE_PLACEHOLDER.findall(text)
    rest = _SIMPLE_PLACEHOLDER.sub("", text)
    if simple and not any(mark in rest for mark in ("{{", "}}", "{%", "%}", "{#", "#}")):
        return None, frozenset(name.split(".", 1)[0] for name in simple)

    try:
        parsed = _jinja_env().parse(text)
    except jinja2.TemplateSyntaxError as exc:
        return str(exc.message), frozenset()
    return None, frozenset(meta.find_undeclared_variables(parsed))


@functools.cache
def _jinja_env():
    import jinja2

    return jinja2.Environment()


def _template_check(ctx: _Ctx, task: Task | None, text: str) -> bool:
    """Can ``text`` be rendered at run time? Reports the names Prefect lacks."""
    error, names = _jinja_names(text)
    if error is not None:
        ctx.add(
            loss(
                "BP115",
                f"{text!r} is not valid Jinja ({error}); kept verbatim",
                task=task,
                source=ctx.workflow,
                target="string",
            )
        )
        return False
    unknown = sorted(names - _CONTEXT_NAMES)
    if unknown:
        ctx.add(
            loss(
                "BP114",
                f"template variables without a Prefect equivalent render empty: {', '.join(unknown)}",
                task=task,
                source=ctx.workflow,
                target="wfconv_render",
            )
        )
    ctx.helpers.add("render")
    return True


def _value(ctx: _Ctx, task: Task | None, value: Any) -> str:
    """Python expression for a value, rendered at run time when it holds
    Airflow-style Jinja (as Airflow renders templated operator fields)."""
    if _contains_template(value) and _all_templates_ok(ctx, task, value):
        return f"wfconv_render({py_literal(value)})"
    return py_literal(value)


def _contains_template(value: Any) -> bool:
    if isinstance(value, str):
        return _has_template(value)
    if isinstance(value, list):
        return any(_contains_template(v) for v in value)
    if isinstance(value, dict):
        return any(_contains_template(v) for v in value.values())
    return False


def _all_templates_ok(ctx: _Ctx, task: Task | None, value: Any) -> bool:
    if isinstance(value, str):
        return not _has_template(value) or _template_check(ctx, task, value)
    if isinstance(value, list):
        return all([_all_templates_ok(ctx, task, v) for v in value])
    if isinstance(value, dict):
        return all([_all_templates_ok(ctx, task, v) for v in value.values()])
    return True


def _call(fn: str, args: list[str], kwargs: list[tuple[str, str]]) -> str:
    parts = list(args) + [f"{k}={v}" for k, v in kwargs]
    return f"{fn}({', '.join(parts)})"


def _kwargs_code(ctx: _Ctx, task: Task, op_kwargs: dict[str, Any]) -> list[str]:
    """``name=value`` for identifier keys, ``**{...}`` for the rest."""
    plain = [
        f"{k}={_value(ctx, task, v)}"
        for k, v in op_kwargs.items()
        if is_dotted_name(k) and "." not in k
    ]
    odd = {k: v for k, v in op_kwargs.items() if not (is_dotted_name(k) and "." not in k)}
    if odd:
        plain.append(f"**{_value(ctx, task, odd)}")
    return plain


# --- action bodies ---------------------------------------------------------------


def _callable_ref(ctx: _Ctx, task: Task, what: str) -> Code:
    """Placeholder for the task's callable: an import when the module is
    known, else a kept function pasted into the module or a stub
    (``local_functions`` decides once every name is known)."""
    f = task.action.fields
    name = f.get("callable")
    module = f.get("module")
    if isinstance(name, str) and ":" in name and module is None:
        module, name = name.split(":", 1)
    if not is_dotted_name(name):
        name = None
    if name and is_dotted_name(module):
        key = (module, name)
    else:
        key = (None, name or f"{task.id}_{what}")
        ctx.kept.setdefault(key[1], (f.get("source_code"), task))
    if key not in ctx.callables:
        ctx.callables[key] = len(ctx.callables)
    return Code(f"<callable:{ctx.callables[key]}>")


def _arg(ctx: _Ctx, task: Task, view: _TaskView, value: Any) -> str:
    """An argument of the user callable: an upstream's value when it is the
    neutral spelling of TaskFlow data passing, else the (rendered) literal."""
    ref = xcom_ref(value)
    if ref is not None and ref in ctx.workflow.task_ids():
        view.data.append(ref)
        return f"upstream[{py_str(ref)}]"
    return _value(ctx, task, value)


def _raise(message: str) -> list[str]:
    return [f"raise NotImplementedError({py_str(message)})"]


def _shell_lines(
    ctx: _Ctx, task: Task, command: str, env: Any = None, cwd: Any = None, capture: bool = False
) -> list[str]:
    """One checked ``subprocess.run`` (what the Prefect frontend reads back as shell)."""
    ctx.need("subprocess")
    kwargs = [("shell", "True"), ("check", "True"), ("executable", py_str("/bin/bash"))]
    # subprocess's env= replaces the environment; the IR's env is added to the
    # inherited one unless the action says env_replace.
    replace = bool(task.action.fields.get("env_replace"))
    if env and not replace:
        ctx.need("os")
    if isinstance(env, Code):  # a mapped argument
        kwargs.append(("env", env if replace else Code(f"{{**os.environ, **{env}}}")))
    elif env:
        value = _value(ctx, task, {str(k): str(v) for k, v in env.items()})
        if not replace:
            # A literal dict is merged in place ({**os.environ, "K": "v"}); a
            # rendered one is spread.
            inner = value[1:-1] if value.startswith("{") else f"**{value}"
            value = Code(f"{{**os.environ, {inner}}}")
        kwargs.append(("env", value))
    if isinstance(cwd, Code):
        kwargs.append(("cwd", cwd))
    elif cwd:
        kwargs.append(("cwd", _value(ctx, task, str(cwd))))
    if capture:
        kwargs += [("capture_output", "True"), ("text", "True")]
    call = _call("subprocess.run", [_value(ctx, task, command)], kwargs)
    return [f"return {call}.stdout"] if capture else [call]


def _computed_shell(ctx: _Ctx, task: Task, why: str) -> None:
    ctx.add(
        loss(
            "BP128",
            f"the command is {why} when the task runs: a Prefect reader sees a python task",
            task=task,
            target="subprocess.run",
        )
    )


def _shell(ctx: _Ctx, task: Task, view: _TaskView) -> None:
    f = task.action.fields
    if _contains_template([shell_command(f), env_mapping(f) or {}, f.get("cwd") or ""]):
        _computed_shell(ctx, task, "rendered from its Airflow-style template")
    view.body += _shell_lines(
        ctx, task, shell_command(f), env_mapping(f), f.get("cwd"), bool(f.get("capture_output"))
    )


def _call_user(
    ctx: _Ctx, task: Task, view: _TaskView, what: str, mapped: dict[str, str] | None = None
) -> None:
    f = task.action.fields
    ref = _callable_ref(ctx, task, what)
    op_args = list(f.get("op_args") or [])
    op_kwargs = dict(f.get("op_kwargs") or {})
    args = [_arg(ctx, task, view, a) for a in op_args]
    code_kwargs = []
    for k, v in op_kwargs.items():
        if is_dotted_name(k) and "." not in k:
            code_kwargs.append(f"{k}={_arg(ctx, task, view, v)}")
        else:
            code_kwargs.append(f"**{{{py_str(k)}: {_arg(ctx, task, view, v)}}}")
    given = set(op_kwargs) | set(mapped or {})
    if mapped:
        for original, param in mapped.items():
            if is_dotted_name(original) and "." not in original:
                code_kwargs.append(f"{original}={param}")
            else:
                code_kwargs.append(f"**{{{py_str(original)}: {param}}}")
    # Airflow passes context variables the callable asks for (ds, params, **context).
    fs = function_source(f.get("source_code")) if ref and not f.get("module") else None
    if fs is not None:
        wanted = [p for p in fs.params[len(op_args) :] if p in _CONTEXT_NAMES and p not in given]
        if wanted or fs.varkw:
            ctx.helpers.add("render")
            view.body.append("context = wfconv_context()")
        code_kwargs += [f"{p}=context[{py_str(p)}]" for p in wanted]
        if fs.varkw:
            skip = sorted(set(fs.params) | given)
            code_kwargs.append(
                f"**{{k: v for k, v in context.items() if k not in {py_literal(skip)}}}"
                if skip
                else "**context"
            )
    view.body.append(f"return {ref}({', '.join(args + code_kwargs)})")


def _python(ctx: _Ctx, task: Task, view: _TaskView) -> None:
    luigi = luigi_task_class(task)
    if luigi is not None:
        module, cls, params = luigi
        key = (module, cls)
        if key not in ctx.callables:
            ctx.callables[key] = len(ctx.callables)
        ctx.add(
            loss(
                "BP123",
                f"runs {cls}(...).run() outside Luigi: requires() and output() are not checked "
                "(Luigi must be installed on the worker)",
                task=task,
                severity="info",
                target="@task",
            )
        )
        view.body.append(
            f"return <callable:{ctx.callables[key]}>.from_str_params({_value(ctx, task, params)}).run()"
        )
        return
    _call_user(ctx, task, view, "callable", view.mapped)


def _empty(ctx: _Ctx, task: Task, view: _TaskView) -> None:
    view.body.append("return None")


def _branch(ctx: _Ctx, task: Task, view: _TaskView) -> None:
    f = task.action.fields
    ctx.add(
        loss(
            "BP127",
            "Prefect has no branch task: the task returns the ids to follow and wfconv_gate "
            "skips the others (a Prefect reader finds the branch through those gates)",
            task=task,
            target="wfconv_gate",
        )
    )
    downstream = ctx.g.down[task.id]
    if f.get("short_circuit"):
        ref = _callable_ref(ctx, task, "condition")
        view.body.append(f"return {py_literal(downstream)} if {ref}() else []")
        if f.get("ignore_downstream_trigger_rules", True):
            ctx.add(
                loss(
                    "BP120",
                    "a false condition skips the direct downstream tasks; further tasks follow their "
                    "trigger rules (Airflow skips every downstream task)",
                    task=task,
                    target="wfconv_gate",
                )
            )
        return
    if f.get("callable"):
        _call_user(ctx, task, view, "chooser")
        return
    if dec.is_decision(f):
        _decision(ctx, task, view)
        return
    if f.get("default") is not None:
        # A default without cases: the decision always follows it.
        view.body.append(f"return {py_literal(f['default'])}")
        return
    ctx.add(
        loss(
            "BP103",
            "no callable and no cases: every direct downstream is followed",
            task=task,
            target="@task",
        )
    )
    view.body.append(f"return {py_literal(downstream)}")


def _decision(ctx: _Ctx, task: Task, view: _TaskView) -> None:
    """An Oozie decision: its EL cases as Python predicates over the flow's
    parameters, walked in order by wfconv_decide (first true case, else the
    default; a null target follows nothing)."""
    d = dec.translate(task.id, task.action.fields)
    for when, to, why in d.untranslated:
        ctx.add(
            loss(
                "BP102",
                f"decision case {when!r} -> {to!r} {why}: left out, it never matches",
                task=task,
                target="wfconv_decide",
            )
        )
    ctx.decisions.append(d)
    ctx.helpers.add("render")
    if d.uses_fs:
        ctx.need("os")
    view.body.append(f'return wfconv_decide({py_str(task.id)}, wfconv_context()["params"])')


def _sensor(ctx: _Ctx, task: Task, view: _TaskView) -> None:
    f = task.action.fields
    cls = str(f.get("sensor") or "")
    target = f.get("target")
    poke = compact_number(float(f.get("poke_interval_s") or _SENSOR_DEFAULT_POKE))
    timeout = compact_number(float(f.get("timeout_s") or _SENSOR_DEFAULT_TIMEOUT))
    soft = bool(f.get("soft_fail"))
    ctx.helpers.add("poll")
    ctx.need("time")
    if (
        isinstance(target, str)
        and target
        and cls in ("FileSensor", "HdfsSensor", "WebHdfsSensor", "")
    ):
        if "://" in target and not target.startswith("file://"):
            # A URL (hdfs://, s3://): the local glob would never match it.
            ctx.helpers.add("fsglob")
            check = f"lambda: wfconv_glob({_value(ctx, task, target)})"
            where = "its file system through fsspec"
        else:
            ctx.need("glob")
            check = f"lambda: glob.glob({_value(ctx, task, target.removeprefix('file://'))})"
            where = "the local file system"
        ctx.add(
            loss(
                "BP104",
                f"{cls or 'sensor'} emitted as a task polling {where} for {target!r} "
                "(no reschedule mode; a Prefect reader sees a FileSensor)",
                task=task,
                target="wfconv_poll",
            )
        )
    else:
        check = "wfconv_check"
        label = cls or "sensor"
        message = f"wfconv: {label} has no Prefect equivalent; write the check for {target!r}"
        view.body.append("def wfconv_check():")
        view.body.append(f"    raise NotImplementedError({py_str(message)})")
        ctx.add(
            loss(
                "BP104",
                f"{cls or 'sensor'} has no Prefect equivalent: the polling task's check raises NotImplementedError",
                task=task,
                target="wfconv_poll",
            )
        )
    if f.get("args") or f.get("mode"):
        dropped = sorted((f.get("args") or {}).keys()) + (["mode"] if f.get("mode") else [])
        ctx.add(
            loss(
                "BP118",
                f"sensor settings not used by the polling task: {', '.join(map(str, dropped))}",
                task=task,
                severity="info",
                target="wfconv_poll",
            )
        )
    call = f"wfconv_poll({check}, {poke!r}, {timeout!r}"
    if soft:
        call += ", soft_fail=True"
        ctx.helpers.add("gate")
        ctx.need("prefect.states", "Completed")
        ctx.add(
            loss(
                "BP121",
                "soft_fail: on timeout the task ends Completed named Skipped",
                task=task,
                severity="info",
                target="wfconv_skipped",
            )
        )
        view.body.append(f"if not {call}):")
        view.body.append("    return wfconv_skipped()")
        view.body.append("return True")
    else:
        view.body.append(f"return {call})")


def _email(ctx: _Ctx, task: Task, view: _TaskView) -> None:
    f = task.action.fields
    ctx.need("smtplib")
    ctx.need("email.message", "EmailMessage")
    ctx.add(
        loss(
            "BP108",
            "email sent with smtplib through an SMTP server on localhost:25 "
            "(no SMTP connection settings of the source)",
            task=task,
            target="smtplib",
        )
    )
    to = f.get("to") or []
    if isinstance(to, str):
        to = [to]
    view.body.append("message = EmailMessage()")
    view.body.append(f'message["To"] = {_value(ctx, task, ", ".join(map(str, to)))}')
    for key, header in (("cc", "Cc"), ("bcc", "Bcc")):
        if f.get(key):
            val = f[key] if isinstance(f[key], list) else [f[key]]
            joined = ", ".join(map(str, val))
            view.body.append(f"message[{py_str(header)}] = {_value(ctx, task, joined)}")
    view.body.append(f'message["Subject"] = {_value(ctx, task, str(f.get("subject") or ""))}')
    view.body.append(f"message.set_content({_value(ctx, task, str(f.get('body') or ''))})")
    view.body.append('with smtplib.SMTP("localhost") as server:')
    view.body.append("    server.send_message(message)")


def _placeholder(ctx: _Ctx, task: Task, view: _TaskView, what: str) -> None:
    ctx.add(
        loss(
            "BP105",
            f"{what} has no Prefect equivalent: the task raises NotImplementedError",
            task=task,
            target="@task",
        )
    )
    view.body += _raise(
        f"wfconv: {what} (task {task.id}) has no Prefect equivalent; replace this body"
    )


def _sql(ctx: _Ctx, task: Task, view: _TaskView) -> None:
    f = task.action.fields
    sql = f.get("sql") or ""
    statements = sql if isinstance(sql, list) else [sql]
    view.body.append(f"# connection: {py_comment(str(f.get('conn_id')))}")
    for statement in statements:
        for line in str(statement).splitlines() or [""]:
            view.body.append(f"# {py_comment(line)}")
    _placeholder(ctx, task, view, f"SQL on connection {f.get('conn_id')!r}")


def _container(ctx: _Ctx, task: Task, view: _TaskView) -> None:
    f = task.action.fields
    words = ["docker", "run", "--rm"]
    for k, v in (env_mapping(f) or {}).items():
        words += ["-e", f"{k}={v}"]
    words.append(str(f.get("image") or ""))
    words += [str(c) for c in f.get("cmds") or []] + [str(a) for a in f.get("arguments") or []]
    ctx.add(
        loss(
            "BP109",
            "container run with `docker run` on the worker"
            + (" (namespace dropped)" if f.get("namespace") else ""),
            task=task,
            severity="warning" if f.get("namespace") else "info",
            target="subprocess",
        )
    )
    view.body += _shell_lines(ctx, task, shlex.join(words))


def _subworkflow(ctx: _Ctx, task: Task, view: _TaskView) -> None:
    f = task.action.fields
    name = f.get("workflow")
    child = ctx.workflows.get(name) if name and name != ctx.workflow.id else None
    if child is not None and f.get("wait_for_completion") is not False:
        _call_child_flow(ctx, task, view, child)
        return
    if not name:
        app = str(f.get("app_path") or task.id).rstrip("/")
        name = file_stem(app.rsplit("/", 1)[-1] or task.id)
        ctx.add(
            loss(
                "BP107",
                f"called workflow not in the bundle: deployment {name}/{name} assumed (from {app!r})",
                task=task,
                target="run_deployment",
            )
        )
    else:
        ctx.add(
            loss(
                "BP107",
                f"runs deployment {name}/{name} (serve the other flow under its own name)",
                task=task,
                severity="info",
                target="run_deployment",
            )
        )
    ctx.need("prefect.deployments", "run_deployment")
    kwargs = []
    inherited = _inherited_parameters(ctx, task)
    conf = {k: v for k, v in dict(f.get("conf") or {}).items() if k not in inherited}
    if conf or inherited:
        items = [f"{py_str(k)}: {v}" for k, v in inherited.items()]
        items += [f"{py_str(str(k))}: {_value(ctx, task, v)}" for k, v in conf.items()]
        kwargs.append(("parameters", "{" + ", ".join(items) + "}"))
    if f.get("wait_for_completion") is False:
        kwargs.append(("timeout", "0"))
    view.body.append("called = " + _call("run_deployment", [py_str(f"{name}/{name}")], kwargs))
    if f.get("wait_for_completion") is not False:
        view.body.append("if not called.state.is_completed():")
        view.body.append(
            f"    raise RuntimeError({py_str(f'sub-workflow {name} did not complete')})"
        )
    view.body.append("return str(called.id)")


def _inherited_parameters(ctx: _Ctx, task: Task) -> dict[str, str]:
    """propagate_configuration (Oozie): the child gets this run's parameters,
    read from the running flow (parameter name -> expression)."""
    if not task.action.get("propagate_configuration") or not ctx.workflow.params:
        return {}
    ctx.need("prefect.runtime", "flow_run")
    _, names = flow_signature(ctx.workflow)
    ctx.add(
        loss(
            "BP124",
            "propagate_configuration: this run's parameters are passed to the child",
            task=task,
            severity="info",
            target="flow_run.parameters",
        )
    )
    return {k: f"flow_run.parameters[{py_str(names[k])}]" for k in ctx.workflow.params}


def _call_child_flow(ctx: _Ctx, task: Task, view: _TaskView, child: Workflow) -> None:
    """The child is in the bundle: its module is written beside this one, so
    the task imports its flow and runs it as a nested flow run (it fails when
    the child run fails, like a sub-workflow action)."""
    flow_fn, params = flow_signature(child)
    key = (file_stem(child.id), flow_fn)
    if key not in ctx.callables:
        ctx.callables[key] = len(ctx.callables)
    conf = dict(task.action.get("conf") or {})
    inherited = {
        k: v for k, v in _inherited_parameters(ctx, task).items() if k in params and k not in conf
    }
    kwargs = [f"{params[k]}={v}" for k, v in inherited.items()]
    kwargs += [f"{params[k]}={_value(ctx, task, v)}" for k, v in conf.items() if k in params]
    dropped = sorted(k for k in conf if k not in params)
    ctx.add(
        loss(
            "BP107",
            f"runs flow {child.id!r} from {key[0]}.py as a nested flow run"
            + (
                f"; conf keys that are not its parameters dropped: {', '.join(dropped)}"
                if dropped
                else ""
            ),
            task=task,
            severity="warning" if dropped else "info",
            target="nested flow",
        )
    )
    view.body.append(f"return <callable:{ctx.callables[key]}>({', '.join(kwargs)})")


def _fail(ctx: _Ctx, task: Task, view: _TaskView) -> None:
    ctx.add(
        loss(
            "BP126",
            "fail/kill: the task raises, so the run fails, but tasks already running are not "
            "stopped (Oozie's KILLED becomes Failed; a Prefect reader sees a python task)",
            task=task,
            target="raise RuntimeError",
        )
    )
    message = str(task.action.get("message") or f"{task.id} failed the run")
    view.body.append(f"raise RuntimeError({_value(ctx, task, message)})")


def _hadoop(ctx: _Ctx, task: Task, view: _TaskView) -> None:
    f = task.action.fields
    engine = str(f.get("engine") or "")
    command = hadoop_command(f)
    ctx.add(
        loss(
            "BP105",
            f"{engine or 'hadoop'} action runs {command!r} in a shell "
            "(needs the Hadoop client tools on the worker)",
            task=task,
            target="subprocess",
        )
    )
    view.body += _shell_lines(ctx, task, command, capture=bool(f.get("capture_output")))


def _external(ctx: _Ctx, task: Task, view: _TaskView) -> None:
    out = task.action.get("output")
    if not out:
        ctx.add(
            loss(
                "BP106",
                "external task without an output: emitted as a no-op",
                task=task,
                target="@task",
            )
        )
        view.body.append("return None")
        return
    ctx.need("glob")
    ctx.add(
        loss(
            "BP106",
            "external data: the task fails when the output is missing (Luigi leaves the run "
            "pending; a Prefect reader sees a python task)",
            task=task,
            target="@task",
        )
    )
    view.body.append(f"if not glob.glob({_value(ctx, task, str(out))}):")
    view.body.append(f"    raise FileNotFoundError({py_str(f'external data {out} is missing')})")
    view.body.append("return True")


def _opaque(ctx: _Ctx, task: Task, view: _TaskView) -> None:
    _placeholder(ctx, task, view, str(task.action.get("type") or task.action.kind))


BUILDERS = {
    "shell": _shell,
    "python": _python,
    "empty": _empty,
    "branch": _branch,
    "sensor": _sensor,
    "email": _email,
    "sql": _sql,
    "container": _container,
    "subworkflow": _subworkflow,
    "fail": _fail,
    "hadoop": _hadoop,
    "external": _external,
    "opaque": _opaque,
}


# --- task options ---------------------------------------------------------------


def _task_options(ctx: _Ctx, task: Task, gated: bool, name: str) -> list[tuple[str, Any]]:
    opts: list[tuple[str, Any]] = [("name", name)]
    if task.retries:
        opts.append(("retries", int(task.retries)))
        delays = retry_delays(task, default=None)
        if task.retry_delay_s is not None or task.retry_backoff == "exponential":
            if len(set(delays)) == 1:
                opts.append(("retry_delay_seconds", compact_number(delays[0])))
            elif delays:
                if task.retry_backoff == "exponential" and not isinstance(task.retry_delay_s, list):
                    ctx.add(
                        loss(
                            "BP119",
                            f"exponential backoff expanded to {[compact_number(d) for d in delays[:50]]} "
                            "(Airflow hashes each delay within [d*2^(n-1), d*2^n))",
                            task=task,
                            severity="info",
                            target="retry_delay_seconds",
                        )
                    )
                opts.append(("retry_delay_seconds", [compact_number(d) for d in delays[:50]]))
        if gated:
            opts.append(("retry_condition_fn", Code("wfconv_no_retry_when_upstream_failed")))
    if task.timeout_s is not None:
        opts.append(("timeout_seconds", compact_number(float(task.timeout_s))))
    if task.action.kind in ("shell", "hadoop", "container"):
        opts.append(("log_prints", True))
    dropped = [
        name
        for name, present in (
            ("pool", task.pool),
            ("queue", task.queue),
            ("owner", task.owner),
            ("depends_on_past", task.depends_on_past),
            ("outputs", task.outputs),
        )
        if present
    ]
    if dropped:
        ctx.add(
            loss(
                "BP117",
                f"{', '.join(dropped)} not expressible in Prefect; dropped",
                task=task,
                severity="info" if dropped == ["outputs"] else "warning",
                target="@task",
            )
        )
    return opts


# --- workflow-level --------------------------------------------------------------


def _tz(ctx: _Ctx) -> str:
    tz = ctx.workflow.schedule.timezone or "UTC"
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        ctx.add(
            loss(
                "BP206", f"timezone {tz!r} is unknown; UTC used", source=ctx.workflow, target="Cron"
            )
        )
        return "UTC"
    return tz


def _datetime_code(ctx: _Ctx, text: str | None) -> str | None:
    if not text:
        return None
    try:
        value = _dt.datetime.fromisoformat(str(text))
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.UTC)
    value = value.astimezone(_dt.UTC)
    parts = [value.year, value.month, value.day, value.hour, value.minute, value.second]
    while len(parts) > 3 and parts[-1] == 0:
        parts.pop()
    ctx.need("datetime")
    ctx.need("zoneinfo", "ZoneInfo")
    return f"datetime.datetime({', '.join(map(str, parts))}, tzinfo=ZoneInfo({py_str('UTC')}))"


# The generated sensor helpers, as Python constants so that the Prefect
# frontend can recognise them exactly (wfconv.frontends.prefect.bodies).
POLL_SOURCE = '''\
def wfconv_poll(check, poke_interval, timeout, soft_fail=False):
    """A sensor: call check every poke_interval seconds until it is true.

    On timeout the task fails (soft_fail: it is skipped).
    """
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() >= deadline:
            if soft_fail:
                return False
            raise TimeoutError(f"sensor timed out after {timeout} s")
        time.sleep(poke_interval)
    return True'''

GLOB_SOURCE = '''\
def wfconv_glob(url):
    """Paths matching a file-system URL (hdfs://, s3:// ...), through fsspec
    (the scheme's driver must be installed on the worker)."""
    import fsspec

    fs, pattern = fsspec.core.url_to_fs(url)
    return fs.glob(pattern)'''

_RRULE_DAYS = ("SU", "MO", "TU", "WE", "TH", "FR", "SA")


def cron_to_rrule(cron: str) -> str | None:
    """The RRULE (without DTSTART/UNTIL) matching exactly the times of a
    5-field cron line, or None: every-minute rules and cron's day-of-month OR
    day-of-week (both restricted) have no RRULE spelling."""
    values = cron_field_values(cron)
    if values is None:
        return None
    minute, hour, dom, month, dow = values
    full = [len(v) == n for v, n in zip(values, (60, 24, 31, 12), strict=False)]
    full_dow = len(dow) == 7
    if full[0] or (not full[2] and not full_dow):
        return None
    parts = ["FREQ=HOURLY" if full[1] else "FREQ=DAILY"]
    if not full[1]:
        parts.append("BYHOUR=" + ",".join(map(str, hour)))
    parts.append("BYMINUTE=" + ",".join(map(str, minute)))
    parts.append("BYSECOND=0")
    if not full[2]:
        parts.append("BYMONTHDAY=" + ",".join(map(str, dom)))
    if not full[3]:
        parts.append("BYMONTH=" + ",".join(map(str, month)))
    if not full_dow:
        parts.append("BYDAY=" + ",".join(_RRULE_DAYS[d] for d in dow))
    return ";".join(parts)


def _wall_clock(text: str, tz: str) -> str | None:
    """An ISO date-time as the schedule timezone's wall clock, RRULE style
    (Prefect reads DTSTART/UNTIL in the schedule's timezone)."""
    try:
        value = _dt.datetime.fromisoformat(str(text))
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.UTC)
    return value.astimezone(ZoneInfo(tz)).strftime("%Y%m%dT%H%M%S")


def _dated_rrule(w: Workflow, tz: str) -> str | None:
    """A cron or whole-minute interval schedule with its dates as one RRule
    text: DTSTART and UNTIL are the first and last run's start in the
    source's time model (docs/semantics.md R3), which is when a Prefect run
    must be scheduled (an Airflow 2 run starts when its interval ends)."""
    s = w.schedule
    rule = cron_to_rrule(s.cron or "") if s.kind == "cron" else None
    if s.kind == "interval" and s.seconds and float(s.seconds) % 60 == 0:
        rule = f"FREQ=MINUTELY;INTERVAL={int(float(s.seconds) // 60)};BYSECOND=0"
    first, last = w.start_date, w.end_date
    try:
        bounds = run_after_bounds(w) if w.start_date else None
    except InputError:
        bounds = None
    if bounds is not None:
        first = bounds[0].isoformat()
        last = bounds[1].isoformat() if bounds[1] is not None else None
    start = _wall_clock(first, tz) if first else None
    end = _wall_clock(last, tz) if last else None
    if rule is None or (first and not start) or (last and not end):
        return None
    if end:
        rule += f";UNTIL={end}"
    return (f"DTSTART:{start}\n" if start else "") + f"RRULE:{rule}"


def _main_block(ctx: _Ctx, flow_fn: str) -> str:
    w = ctx.workflow
    s = w.schedule
    kwargs: list[tuple[str, str]] = [("name", py_str(flow_name(w, flow_fn)))]
    tz = _tz(ctx) if s.kind == "cron" and s.cron else "UTC"
    # A cron schedule with dates becomes an RRule (DTSTART/UNTIL); otherwise
    # Prefect schedules have no start or end (an interval's anchor is the
    # closest thing to a start date).
    dated = _dated_rrule(w, tz) if (w.start_date or w.end_date) else None
    lost = [
        name
        for name, value in (("start_date", w.start_date), ("end_date", w.end_date))
        if value
        and not (name == "start_date" and s.kind == "interval" and s.seconds)
        and dated is None
    ]
    if lost:
        ctx.add(
            loss(
                "BP202",
                f"{' and '.join(lost)} cannot be expressed in Prefect (schedules run from now on)",
                source=w,
                target="flow.serve",
            )
        )
    if dated is not None:
        ctx.need("prefect.schedules", "RRule")
        kwargs.append(("schedules", f"[RRule({py_str(dated)}, timezone={py_str(tz)})]"))
    elif s.kind == "cron" and s.cron:
        if tz == "UTC":
            kwargs.append(("cron", py_str(s.cron)))
        else:
            ctx.need("prefect.schedules", "Cron")
            kwargs.append(("schedules", f"[Cron({py_str(s.cron)}, timezone={py_str(tz)})]"))
    elif s.kind == "interval" and s.seconds:
        anchor = _datetime_code(ctx, w.start_date)
        if anchor:
            ctx.need("prefect.schedules", "Interval")
            kwargs.append(
                (
                    "schedules",
                    f"[Interval({compact_number(float(s.seconds))!r}, anchor_date={anchor})]",
                )
            )
        else:
            kwargs.append(("interval", repr(compact_number(float(s.seconds)))))
    elif s.kind == "once":
        ctx.add(
            loss(
                "BP204",
                "schedule @once: the flow runs once when the module is executed (no deployment "
                "schedule)",
                source=w,
                target="__main__",
            )
        )
        return f"{flow_fn}()"
    elif s.kind in ("datasets", "assets"):
        ctx.add(
            loss(
                "BP203",
                f"runs triggered by {', '.join(s.datasets)} need a Prefect automation; served without schedule",
                source=w,
                target="flow.serve",
            )
        )
    if s.kind in ("cron", "interval") and s.datasets:
        ctx.add(
            loss(
                "BP203",
                f"runs triggered by {', '.join(s.datasets)} need a Prefect automation; served "
                "on the time schedule only",
                source=w,
                target="flow.serve",
            )
        )
    scheduled = (s.kind == "cron" and s.cron) or (s.kind == "interval" and s.seconds)
    if w.catchup or (w.catchup is None and scheduled):
        said = "catchup=True" if w.catchup else "catchup not set (Airflow 2 catches up by default)"
        ctx.add(
            loss(
                "BP201",
                f"{said}: Prefect never creates runs for past schedule times; the module's "
                "wfconv_backfill(first, last) runs them, oldest first, by hand",
                source=w,
                target="flow.serve",
            )
        )
    if w.tags:
        kwargs.append(("tags", py_literal(list(w.tags))))
    if w.max_active_runs is not None:
        kwargs.append(("global_limit", str(int(w.max_active_runs))))
    return f"{flow_fn}.serve({', '.join(f'{k}={v}' for k, v in kwargs)})"


# --- the graph shape -------------------------------------------------------------


def _role_gate(ctx: _Ctx, t: Task, view: _TaskView, roles: RoleFacts) -> None:
    """Setup/teardown arguments of the task's wfconv_gate (see its docstring):
    the flow passes the states of indirect setups and of a teardown's scope
    in ``also``; roles are named so that the Prefect reader gets them back."""
    gate = view.gate
    assert gate is not None
    if t.trigger_rule == "all_done_setup_success":
        gate["setups"] = roles.setup_upstreams.get(t.id, [])
    requires = roles.indirect_setups.get(t.id, [])
    if requires:
        gate["requires"] = requires
    also = requires + roles.scope.get(t.id, [])
    if also:
        gate["also"] = also
    if t.role == "teardown":
        gate["teardown"] = True
        gate["fails_run"] = t.teardown_fails_run


def _role_loss(ctx: _Ctx, t: Task) -> None:
    ctx.add(
        loss(
            "BP129",
            f"{t.role} task: Airflow's setup/teardown rules emulated by wfconv_gate (upstream "
            "setups, the teardown's scope, run state without teardowns); a setup no gate names "
            "reads back as a plain task",
            task=t,
            severity="info",
            target="wfconv_gate",
        )
    )


def _gated_tasks(w: Workflow, g: GraphIndex) -> set[str]:
    """Tasks that need wfconv_gate: non-native rules, branch downstreams, and
    everything downstream of a gated task (its upstream may be 'skipped')."""
    gated: set[str] = set()
    for t in w.tasks:
        if t.trigger_rule not in _NATIVE_RULES or t.role is not None:
            gated.add(t.id)
        if t.action.kind == "branch" or (t.action.kind == "sensor" and t.action.get("soft_fail")):
            gated.update(g.down[t.id])
    if not gated:
        return gated
    # any task with upstreams gets gated once the workflow is gated, so that
    # no upstream is ever NotReady (its value would be indistinguishable)
    return {t.id for t in w.tasks if g.up[t.id]}


def _param_names(w: Workflow) -> dict[str, str]:
    """Parameter -> flow argument: the flow's parameters are its public API
    (deployments pass them by name), so they keep their names whenever they
    are identifiers; task functions and the flow function avoid them.
    Prefect's parameters form a pydantic model, which refuses a name with a
    leading underscore: those lose it (BP205 reports every rename)."""
    names = identifier_map(list(w.params), reserved=set(_MODULE_NAMES))
    taken = set(names.values()) | set(_MODULE_NAMES)
    for param, arg in names.items():
        if arg.startswith("_"):
            base = arg.lstrip("_") or "param"
            names[param] = identifier_map([base], reserved=taken)[base]
            taken.add(names[param])
    return names


# Prefect refuses these in flow and deployment names (prefect.types.BANNED_CHARACTERS).
_BANNED_NAME_CHARACTERS = "/%&<>"


def flow_name(w: Workflow, flow_fn: str) -> str:
    """The flow's (and its deployment's) name: the id, without what Prefect refuses."""
    return "".join("_" if c in _BANNED_NAME_CHARACTERS else c for c in (w.id or flow_fn))


def task_functions(w: Workflow) -> dict[str, str]:
    """Task id -> the generated ``@task`` function name."""
    return identifier_map(w.task_ids(), reserved=set(_MODULE_NAMES) | set(_param_names(w).values()))


def flow_signature(w: Workflow) -> tuple[str, dict[str, str]]:
    """(flow function name, parameter -> argument name) of the emitted module:
    what another module needs to import and call this flow."""
    params = _param_names(w)
    reserved = set(_MODULE_NAMES) | set(task_functions(w).values()) | set(params.values())
    flow_fn = identifier_map([w.id], reserved=reserved)[w.id]
    return flow_fn, params


def task_id_map(w: Workflow) -> dict[str, str]:
    """Source task id -> the id the Prefect frontend reads back (verify uses it)."""
    return prefect_names(w)


def prefect_names(w: Workflow) -> dict[str, str]:
    """Task id -> the Prefect task name emitted: the id itself, except the
    empty id, which Prefect replaces by the function name."""
    fns = task_functions(w)
    return {t: t if t else fns[t] for t in w.task_ids()}


def emit(workflow: Workflow, **options: Any) -> Emitted:
    """Emit ``<workflow id>.py`` holding the tasks, the flow and a ``serve`` entry point.

    Options: ``workflows`` (the bundle's workflows by id): a called workflow
    found there is imported from its module (written beside) and run as a
    nested flow; otherwise ``run_deployment`` is used."""
    from wfconv.backends.common import topo_order

    w = workflow
    ctx = _Ctx(w, workflows=dict(options.get("workflows") or {}))
    ctx.need("prefect", "flow")
    if w.tasks:
        ctx.need("prefect", "task")
    ctx.helpers.add("finish")
    ctx.need("prefect.states", "Failed")

    order = topo_order(w)
    gated = _gated_tasks(w, ctx.g)
    roles = role_facts(w)
    g = ctx.g
    if gated:
        ctx.helpers.add("gate")
        ctx.need("prefect.states", "Completed")
        ctx.need("prefect", "allow_failure")

    # Names
    reserved = set(_MODULE_NAMES)
    fns = task_functions(w)
    reserved |= set(fns.values())
    flow_fn, param_names = flow_signature(w)
    reserved.add(flow_fn)
    for original, name in param_names.items():
        if name != original:
            ctx.add(
                loss(
                    "BP205",
                    f"parameter {original!r} is the flow argument {name!r} (deployments and "
                    "readers see the new name)",
                    source=w,
                    target="flow parameter",
                )
            )
    runs = identifier_map(
        [f"{fns[t]}_run" for t in w.task_ids()], reserved=reserved | set(param_names.values())
    )
    run_var = {t: runs[f"{fns[t]}_run"] for t in w.task_ids()}

    if w.groups:
        ctx.add(
            loss(
                "BP125",
                f"task groups flattened ({', '.join(g.id for g in w.groups)}); task names keep "
                "their dotted ids",
                source=w,
                severity="info",
                target="@task",
            )
        )
    names = prefect_names(w)
    for t in w.tasks:
        if names[t.id] != t.id:
            ctx.add(
                loss(
                    "BP122",
                    f"Prefect names an unnamed task after its function: {names[t.id]!r}",
                    task=t,
                    target="@task(name=...)",
                )
            )
    if not w.id:
        ctx.add(
            loss(
                "BP122",
                f"Prefect names an unnamed flow after its function: {flow_fn!r}",
                source=w,
                target="@flow(name=...)",
            )
        )
    elif flow_name(w, flow_fn) != w.id:
        ctx.add(
            loss(
                "BP130",
                f"Prefect refuses {' '.join(_BANNED_NAME_CHARACTERS)} in flow names: the flow is "
                f"named {flow_name(w, flow_fn)!r}",
                source=w,
                target="@flow(name=...)",
            )
        )

    # Tasks
    views: dict[str, _TaskView] = {}
    for t in w.tasks:
        view = _TaskView(
            fn=fns[t.id],
            options=_task_options(ctx, t, t.id in gated, names[t.id]),
            params=[],
            body=[],
        )
        mapped = _mapping(ctx, t)
        if mapped is not None:
            view.mapped = {k: p for k, (p, _) in mapped.items()}
            view.map_args = [
                (p, values if isinstance(values, Code) else _value(ctx, t, values))
                for p, values in mapped.values()
            ]
            view.mapped_from = [
                v[len("<run:") : -1] for _, v in mapped.values() if isinstance(v, Code)
            ]
            view.params += [p for p, _ in mapped.values()]
        if t.id in gated:
            branches = [u for u in g.up[t.id] if g.tasks[u].action.kind == "branch"]
            view.gate = {"rule": t.trigger_rule, "task_id": t.id, "branches": branches}
            _role_gate(ctx, t, view, roles)
        if t.role is not None:
            _role_loss(ctx, t)
        if t.action.kind == "shell" and mapped:
            _computed_shell(ctx, t, "a mapped argument")
            f = t.action.fields
            arg = {k: Code(p) for k, (p, _) in mapped.items()}
            view.body += _shell_lines(
                ctx,
                t,
                arg.get("command", shell_command(f)),
                arg.get("env", env_mapping(f)),
                arg.get("cwd", f.get("cwd")),
                bool(f.get("capture_output")),
            )
        else:
            BUILDERS.get(t.action.kind, _opaque)(ctx, t, view)
        unknown = sorted(set(t.action.fields) - KNOWN_ACTION_FIELDS.get(t.action.kind, set()))
        if unknown:
            ctx.add(
                loss(
                    "BP118",
                    f"{t.action.kind} fields not emitted: {', '.join(unknown)}",
                    task=t,
                    severity="info",
                    target="@task",
                )
            )
        if t.doc:
            view.doc = t.doc
        view.data = list(dict.fromkeys(view.data))
        if t.id in gated or view.data:
            view.params.append("upstream")
        if view.gate and view.gate.get("also"):
            view.params.append("also")
        views[t.id] = view
        if t.trigger_rule == "always":
            ctx.add(
                loss(
                    "BP113",
                    "trigger rule 'always' waits for the upstream tasks to finish in Prefect",
                    task=t,
                    severity="info",
                    target="allow_failure",
                )
            )
        if t.id in gated and t.trigger_rule not in ("all_done",):
            ctx.add(
                loss(
                    "BP112",
                    f"trigger rule {t.trigger_rule} emulated by wfconv_gate (Airflow's rule table, "
                    "applied once every upstream has finished)",
                    task=t,
                    severity="info",
                    target="wfconv_gate",
                )
            )

    for e in w.edges:
        if e.kind == "data" and e.src not in views[e.dst].data + views[e.dst].mapped_from:
            ctx.add(
                loss(
                    "BP111",
                    f"the value of {e.src!r} is not passed to {e.dst!r} (ordering kept)",
                    task=g.tasks[e.dst],
                    target="wait_for",
                )
            )

    # User callables: import lines and final names.
    keys = list(ctx.callables)
    exprs, callable_imports, stubs = callable_imports_for(keys, reserved | set(run_var.values()))
    functions, stub_losses = local_functions(stubs, ctx.kept, "BP101", "python stub")
    ctx.losses.extend(stub_losses)
    for view in views.values():
        view.body = [_resolve_callables(line, keys, exprs) for line in view.body]

    # Flow body: plain tasks first (they never wait for gated ones), then gated.
    body: list[str] = []
    ordered = [t for t in order if t not in gated] + [t for t in order if t in gated]
    for tid in ordered:
        t = g.tasks[tid]
        ups = g.up[tid]
        mapped = views[tid].map_args
        method = "map" if mapped is not None else "submit"
        args: list[str] = [f"{p}={_resolve_runs(v, run_var)}" for p, v in (mapped or [])]
        if tid in gated:
            inner = "{" + ", ".join(f"{py_str(u)}: {run_var[u]}" for u in ups) + "}"
            up = f"allow_failure({inner})"
            args.append(f"upstream=unmapped({up})" if mapped is not None else f"upstream={up}")
            also = (views[tid].gate or {}).get("also")
            if also:
                inner = "{" + ", ".join(f"{py_str(u)}: {run_var[u]}" for u in also) + "}"
                up = f"allow_failure({inner})"
                args.append(f"also=unmapped({up})" if mapped is not None else f"also={up}")
            if mapped is not None:
                ctx.need("prefect", "unmapped")
        else:
            tolerant = _NATIVE_RULES.get(t.trigger_rule, False)
            data = views[tid].data
            if data:
                inner = "{" + ", ".join(f"{py_str(u)}: {run_var[u]}" for u in data) + "}"
                up = f"allow_failure({inner})" if tolerant else inner
                args.append(f"upstream=unmapped({up})" if mapped is not None else f"upstream={up}")
                if mapped is not None:
                    ctx.need("prefect", "unmapped")
            rest = [u for u in ups if u not in data and u not in views[tid].mapped_from]
            if rest:
                items = [f"allow_failure({run_var[u]})" if tolerant else run_var[u] for u in rest]
                args.append(f"wait_for=[{', '.join(items)}]")
            if tolerant and ups:
                ctx.need("prefect", "allow_failure")
        body.append(f"{run_var[tid]} = {fns[tid]}.{method}({', '.join(args)})")
    # Airflow's effective leaves: teardowns do not decide the run's state.
    leaves = roles.leaves
    runs_dict = "{" + ", ".join(f"{py_str(t)}: {run_var[t]}" for t in w.task_ids()) + "}"
    body.append(f"return wfconv_finish({runs_dict}, leaves={py_literal(leaves)})")

    flow_options: list[tuple[str, Any]] = [("name", flow_name(w, flow_fn))]
    if w.description:
        flow_options.append(("description", w.description))
    if w.timeout_s is not None:
        flow_options.append(("timeout_seconds", compact_number(float(w.timeout_s))))
        ctx.add(
            loss(
                "BP207",
                "run timeout: Prefect fails the flow run as TimedOut (Airflow also marks the "
                "unfinished tasks skipped)",
                source=w,
                severity="info",
                target="@flow(timeout_seconds=...)",
            )
        )

    main = _main_block(ctx, flow_fn)

    constants: list[tuple[str, Any]] = []
    if "gate" in ctx.helpers:
        constants.append(("WFCONV_SKIPPED", "wfconv:skipped"))
    backfill = _backfill_schedule(w)
    if backfill is not None:
        # The time model the runs follow (wfconv_run_dates), for readers of the module.
        time = {"model": w.schedule.time_model, "interval_s": w.schedule.interval_s}
        constants.append(("WFCONV_TIME", time))
        ctx.need("datetime")
        ctx.need("os")
        ctx.need("zoneinfo", "ZoneInfo")
        constants.append(("WFCONV_SCHEDULE", backfill))
    if "render" in ctx.helpers:
        ctx.need("datetime")
        ctx.need("os")
        ctx.need("jinja2")
        ctx.need("prefect.runtime", "flow_run")
        ctx.need("zoneinfo", "ZoneInfo")
        constants.append(("WFCONV_WORKFLOW_ID", w.id))
        constants.append(("WFCONV_PARAMS", dict(w.params)))
        constants.append(("WFCONV_PARAM_NAMES", {v: k for k, v in param_names.items() if v != k}))
        ctx.add(
            loss(
                "BP116",
                "templates are rendered at run time; ds/ts/data_interval_* come from the flow "
                f"run's scheduled start time as the source means it ({w.schedule.time_model})",
                source=w,
                severity="info",
                target="wfconv_render",
            )
        )

    src = w.source
    origin = (
        f"{src.path}:{src.line}"
        if src and src.path and src.line
        else (src.path if src and src.path else None)
    )
    code = render(
        "prefect_flow.py.j2",
        workflow_id=w.id,
        origin=origin,
        imports=_imports(ctx, callable_imports),
        constants=constants,
        helpers=ctx.helpers,
        decision_helpers=dec.helpers_source(ctx.decisions) if ctx.decisions else None,
        decision_table=(
            dec.table_source(ctx.decisions, py_str, py_literal) if ctx.decisions else None
        ),
        decide_source=dec.DECIDE_SOURCE.rstrip("\n") if ctx.decisions else None,
        poll_source=POLL_SOURCE,
        run_dates_source=run_dates_source(w) if "render" in ctx.helpers else None,
        glob_source=GLOB_SOURCE,
        tasks=[views[t] for t in w.task_ids()],
        functions=functions,
        flow_options=flow_options,
        flow_fn=flow_fn,
        flow_params=[(param_names[k], v) for k, v in w.params.items()],
        mutable_defaults=any(isinstance(v, (list, dict)) for v in w.params.values()),
        flow_body=body,
        main=main,
        backfill=backfill is not None,
    )
    name = f"{file_stem(w.id)}.py"
    code = format_python(code, name)
    diagnostics = sorted(ctx.losses, key=lambda d: (d.line or 0, d.code))
    return Emitted({name: code}, diagnostics)


def run_dates_source(w: Workflow) -> str:
    """Source of ``wfconv_run_dates(when, backfilled)``: a Prefect run's
    (logical_date, data_interval_start, data_interval_end) from its scheduled
    start time ``when`` (or, for a run of ``wfconv_backfill``, from its
    logical date), in the workflow's time model (docs/semantics.md R3).

    Prefect starts a run at its tick. In the trigger model (Airflow 3,
    Oozie, Prefect) the run sees the tick, less ``interval_s`` for the
    interval's start. In the data-interval model (Airflow 2) the run at a
    tick covers the interval that ends there: its logical date is the tick
    before (a manual run covers the last complete interval)."""
    s = w.schedule
    fixed = s.kind == "interval" and s.seconds
    if s.time_model == TRIGGER or not ((s.kind == "cron" and s.cron) or fixed):
        if not s.interval_s:
            body = ["return when, when, when"]
        else:
            iv = f"datetime.timedelta(seconds={compact_number(float(s.interval_s))!r})"
            body = [
                f"end = when + {iv} if backfilled else when",
                f"return end - {iv}, end - {iv}, end",
            ]
        why = "a run sees its tick (the trigger model)"
    elif fixed:
        step = f"datetime.timedelta(seconds={compact_number(float(s.seconds))!r})"
        body = [
            f"start = when if backfilled else when - {step}",
            f"return start, start, start + {step}",
        ]
        why = "the run at a tick covers the interval that ends there (Airflow 2)"
    else:
        body = [
            "from cronsim import CronSim  # pip install cronsim",
            "",
            f"local = when.astimezone(ZoneInfo({py_str(s.timezone or 'UTC')}))",
            "if backfilled:",
            f"    end = next(CronSim({py_str(s.cron)}, local))",
            "    return when, when, end.astimezone(when.tzinfo)",
            f"end = next(CronSim({py_str(s.cron)}, local + datetime.timedelta(seconds=1), "
            "reverse=True))",
            f"start = next(CronSim({py_str(s.cron)}, end, reverse=True))",
            "return start.astimezone(when.tzinfo), start.astimezone(when.tzinfo), "
            "end.astimezone(when.tzinfo)",
        ]
        why = "the run at a tick covers the interval that ends there (Airflow 2)"
    lines = [
        "def wfconv_run_dates(when, backfilled=False):",
        '    """(logical_date, data_interval_start, data_interval_end) of the run',
        "    scheduled at WHEN, or whose logical date is WHEN when backfilled:",
        f'    {why}."""',
    ]
    lines += [f"    {line}" if line else "" for line in body]
    return "\n".join(lines) + "\n"


def _backfill_schedule(w: Workflow) -> dict[str, Any] | None:
    """What wfconv_backfill needs to list a scheduled workflow's ticks."""
    s = w.schedule
    if s.kind == "cron" and s.cron:
        return {"cron": s.cron, "timezone": s.timezone or "UTC"}
    if s.kind == "interval" and s.seconds:
        out: dict[str, Any] = {"seconds": float(s.seconds), "timezone": s.timezone or "UTC"}
        if w.start_date:
            out["start"] = w.start_date
        return out
    return None


def _resolve_runs(code: str, run_var: dict[str, str]) -> str:
    if code.startswith("<run:"):
        return run_var[code[len("<run:") : -1]]
    return code


def _resolve_callables(line: str, keys: list, exprs: dict) -> str:
    for i, key in enumerate(keys):
        line = line.replace(f"<callable:{i}>", exprs[key])
    return line


def _mapping(ctx: _Ctx, task: Task) -> dict[str, tuple[str, Any]] | None:
    """IR field -> (task parameter, values) for a mapped task, or None."""
    m = task.mapped
    if not m:
        return None
    over = mapped_columns(m)
    if set(over) != set(m.get("over") or {}):
        m = {**m, "kind": "zip"}  # expand_kwargs rows: one mapped run per row
    kind = task.action.kind
    supported = kind == "python" or (kind == "shell" and set(over) <= {"command", "env", "cwd"})
    # An upstream's output ({{ ti.xcom_pull(task_ids='x') }}) is mapped over
    # natively: Prefect resolves the future and maps over its result.
    refs = {k: xcom_ref(v) for k, v in over.items()}
    known = set(ctx.workflow.task_ids())
    runtime = {k for k, r in refs.items() if r is not None and r in known}
    single = len(over) == 1 or m.get("kind") == "zip"
    literal = all(isinstance(v, list) or k in runtime for k, v in over.items())
    if not over or not literal or not supported or (runtime and not single):
        ctx.add(
            loss(
                "BP110",
                "mapped over a run-time value or a field Prefect cannot map: emitted unmapped",
                task=task,
                target=".submit",
            )
        )
        return None
    names = list(over)
    if runtime:
        params = identifier_map(names, reserved=["upstream"])
        return {
            k: (params[k], Code(f"<run:{refs[k]}>") if k in runtime else list(over[k]))
            for k in names
        }
    if m.get("kind") == "zip" or len(names) == 1:
        columns = {k: list(v) for k, v in over.items()}
        if m.get("kind") == "zip" and len({len(v) for v in columns.values()}) > 1:
            shortest = min(len(v) for v in columns.values())
            columns = {k: v[:shortest] for k, v in columns.items()}
    else:
        rows = list(itertools.product(*over.values()))
        columns = {k: [r[i] for r in rows] for i, k in enumerate(names)}
        ctx.add(
            loss(
                "BP110",
                "cross-product mapping expanded to zipped literal lists for .map",
                task=task,
                severity="info",
                target=".map",
            )
        )
    params = identifier_map(names, reserved=["upstream"])
    return {k: (params[k], columns[k]) for k in names}


_STDLIB = {"datetime", "glob", "os", "smtplib", "subprocess", "time", "email.message", "zoneinfo"}


def _imports(ctx: _Ctx, callable_imports: dict[str, set[str]]) -> list[str]:
    """Import lines in ruff/isort order."""
    froms: dict[str, set[str]] = {m: set(n) for m, n in callable_imports.items()}
    for module, names in ctx.names.items():
        froms.setdefault(module, set()).update(names)
    return import_block(
        {m for m in ctx.modules if m in _STDLIB},
        {m: n for m, n in froms.items() if m in _STDLIB},
        {m for m in ctx.modules if m not in _STDLIB},
        {m: n for m, n in froms.items() if m not in _STDLIB},
    )
