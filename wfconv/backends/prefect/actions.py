"""Task bodies of the Prefect target: one builder per IR action kind.

Each builder fills a ``TaskView``: the statements of the ``@task`` function,
the values the flow passes it, and what it imports. Strings holding
templates become f-strings over the run's values (``wfconv.backends.fstrings``);
only a template an f-string cannot say is rendered at run time, by the
helper module's sandboxed ``render``.
"""

from __future__ import annotations

import ast
import re
import shlex
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from wfconv.backends import decisions as dec
from wfconv.backends.common import (
    GraphIndex,
    compact_number,
    env_mapping,
    file_stem,
    function_source,
    hadoop_command,
    is_dotted_name,
    loss,
    py_comment,
    py_literal,
    py_str,
    shell_command,
    xcom_ref,
)
from wfconv.backends.fstrings import Names, to_fstring
from wfconv.backends.pycode import Brackets, Call, Expr, Kw, Pair, call, map_atoms, statement
from wfconv.ir.model import Diagnostic, Task, Workflow

HELPER_MODULE = "wfconv_prefect"

# Airflow context names a kept function may ask for, and how the flow spells
# them (a run value, formatted).
CONTEXT_ARGS = {
    "ds": ("logical_date", "%Y-%m-%d"),
    "ds_nodash": ("logical_date", "%Y%m%d"),
    "ts": ("logical_date", None),
    "logical_date": ("logical_date", ""),
    "execution_date": ("logical_date", ""),
    "data_interval_start": ("data_interval_start", ""),
    "data_interval_end": ("data_interval_end", ""),
}
# Further context names Airflow passes that a Prefect run does not have.
OTHER_CONTEXT = {"params", "run_id", "dag", "dag_run", "ti", "task_instance", "task", "macros"}

_SENSOR_DEFAULT_POKE = 60
_SENSOR_DEFAULT_TIMEOUT = 7 * 24 * 3600


@dataclass
class TaskView:
    """One ``@task`` function and how the flow calls it."""

    fn: str
    options: list[Kw] = field(default_factory=list)
    params: list[str] = field(default_factory=list)
    body: list[str] = field(default_factory=list)
    # run values (logical_date ...) and workflow parameters the body reads
    dates: list[str] = field(default_factory=list)
    flow_params: list[str] = field(default_factory=list)
    # keyword arguments the flow passes (name -> expression over flow variables)
    kwargs: dict[str, Expr] = field(default_factory=dict)
    # the task is this pasted user function itself (its text)
    source: str | None = None
    gate: dict[str, Any] | None = None
    # upstream ids whose values are arguments (data passing)
    data: list[str] = field(default_factory=list)
    mapped_from: list[str] = field(default_factory=list)
    mapped: dict[str, str] | None = None
    map_args: list[tuple[str, Expr]] | None = None
    doc: str | None = None


@dataclass
class Ctx:
    workflow: Workflow
    names: Names
    losses: list[Diagnostic] = field(default_factory=list)
    modules: set[str] = field(default_factory=set)  # plain imports
    froms: dict[str, set[str]] = field(default_factory=dict)  # from-imports
    helpers: set[str] = field(default_factory=set)  # names from the helper module
    decisions: list[dec.Decision] = field(default_factory=list)
    callables: dict[tuple[str | None, str], int] = field(default_factory=dict)
    kept: dict[str, tuple[Any, Task]] = field(default_factory=dict)
    workflows: dict[str, Workflow] = field(default_factory=dict)
    # parameter name -> flow argument name
    param_args: dict[str, str] = field(default_factory=dict)
    # pasted user functions carry annotations (the module defers them)
    annotations: bool = False
    # the flow calls the module's wfconv_run_dates (a time model other than
    # the plain trigger one)
    run_dates: bool = False
    # some task reads the run's dates: the flow takes ``logical_date``
    dated: bool = False
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
            self.froms.setdefault(module, set()).add(name)

    def helper(self, name: str) -> str:
        self.helpers.add(name)
        return name


# Placeholder of a user callable (``callable_ref``) -> its name in the module,
# once known: ``emit`` lays the task bodies out a second time with them, so
# that a line's width counts the final name.
CALLABLE_NAMES: ContextVar[dict[str, str] | None] = ContextVar("callable_names", default=None)
_PLACEHOLDER = re.compile(r"<callable:\d+>")


def stmt(prefix: str, e: Expr, suffix: str = "", depth: int = 1) -> list[str]:
    """A statement of a task body (one level in), laid out as ruff format does."""
    names = CALLABLE_NAMES.get()
    if names:
        e = map_atoms(e, lambda text: _PLACEHOLDER.sub(lambda m: names[m.group(0)], text))
    return statement(prefix, e, suffix, depth)


# --- strings and templates -------------------------------------------------------


def text(ctx: Ctx, task: Task | None, view: TaskView | None, value: str) -> Expr:
    """Python for a string of the IR: a literal, an f-string over the run's
    values, or (a template an f-string cannot say) the helper module's
    sandboxed ``render``."""
    if "{{" not in value and "{%" not in value and "{#" not in value:
        return py_str(value)
    fs = to_fstring(value, ctx.names)
    if fs is not None:
        for module, name in fs.imports:
            ctx.need(module, name or None)
        if fs.run_id:
            ctx.need("prefect.runtime", "flow_run")
        if view is not None:
            _uses(view, {ctx.names.dates[d] for d in fs.dates}, fs.params)
        return fs.code
    return _rendered(ctx, task, view, value)


def _rendered(ctx: Ctx, task: Task | None, view: TaskView | None, value: str) -> Expr:
    import jinja2
    from jinja2 import meta

    try:
        parsed = jinja2.Environment().parse(value)
    except jinja2.TemplateSyntaxError as exc:
        ctx.add(
            loss(
                "BP115",
                f"{value!r} is not valid Jinja ({exc.message}); kept verbatim",
                task=task,
                source=ctx.workflow,
                target="string",
            )
        )
        return py_str(value)
    known = {"ds", "ds_nodash", "ts", "ts_nodash", "logical_date", "params", "macros"}
    known |= {"data_interval_start", "data_interval_end"}
    unknown = sorted(meta.find_undeclared_variables(parsed) - known)
    if unknown:
        ctx.add(
            loss(
                "BP114",
                "template variables without a Prefect equivalent render empty: "
                + ", ".join(unknown),
                task=task,
                source=ctx.workflow,
                target="render",
            )
        )
    ctx.add(
        loss(
            "BP133",
            f"template {value!r} is rendered at run time in jinja2's sandbox "
            f"({HELPER_MODULE}.render): an f-string cannot say it",
            task=task,
            source=ctx.workflow,
            severity="info",
            target="render",
        )
    )
    params = list(ctx.workflow.params)
    if view is not None:
        _uses(view, {ctx.names.dates["logical_date"]}, params)
    pairs = Brackets("{", "}", [Pair(py_str(k), ctx.param_args[k]) for k in params])
    date = ctx.names.dates["logical_date"]
    return Call(ctx.helper("render"), [py_str(value), date, pairs])


def _uses(view: TaskView, dates: set[str], params: Any) -> None:
    for d in sorted(dates):
        if d not in view.dates:
            view.dates.append(d)
    for p in params:
        if p not in view.flow_params:
            view.flow_params.append(p)


def value(ctx: Ctx, task: Task | None, view: TaskView | None, v: Any) -> Expr:
    """Python for a JSON-like IR value, strings through ``text``."""
    if isinstance(v, str):
        return text(ctx, task, view, v)
    if isinstance(v, list):
        return Brackets("[", "]", [value(ctx, task, view, x) for x in v])
    if isinstance(v, dict):
        return Brackets(
            "{", "}", [Pair(py_literal(str(k)), value(ctx, task, view, x)) for k, x in v.items()]
        )
    return py_literal(v)


# --- action bodies -----------------------------------------------------------------


def callable_ref(ctx: Ctx, task: Task, what: str) -> str:
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
        key: tuple[str | None, str] = (module, name)
    else:
        key = (None, name or f"{task.id}_{what}")
        ctx.kept.setdefault(key[1], (f.get("source_code"), task))
    if key not in ctx.callables:
        ctx.callables[key] = len(ctx.callables)
    return f"<callable:{ctx.callables[key]}>"


def _arg(ctx: Ctx, task: Task, view: TaskView, v: Any) -> Expr:
    """An argument of a user callable: an upstream's value when it is the
    neutral spelling of TaskFlow data passing, else the (formatted) value."""
    ref = xcom_ref(v)
    if ref is not None and ref in ctx.g.tasks:
        view.data.append(ref)
        return f"<data:{ref}>"
    if isinstance(v, list) and any(xcom_ref(x) in ctx.g.tasks for x in v):
        return Brackets("[", "]", [_arg(ctx, task, view, x) for x in v])
    return value(ctx, task, view, v)


def shell_lines(
    ctx: Ctx,
    task: Task,
    view: TaskView,
    command: Expr,
    env: Any = None,
    cwd: Any = None,
    capture: bool = False,
    mapped_env: str | None = None,
    mapped_cwd: str | None = None,
) -> list[str]:
    """``subprocess.run`` of the command with bash (Airflow's shell), its
    output printed (the flow logs prints) and a non-zero exit failing the
    task. ``env`` adds to the worker's environment unless the action says
    ``env_replace``; ``mapped_*`` name a task parameter holding the value."""
    ctx.need("subprocess", "run")
    lines = stmt("command = ", command) if command != "command" else []
    args: list[Expr] = ['["bash", "-c", command]']
    replace = bool(task.action.fields.get("env_replace"))
    if mapped_env:
        if not replace:
            ctx.need("os")
        args.append(Kw("env", mapped_env if replace else f"{{**os.environ, **{mapped_env}}}"))
    elif env:
        items = value(ctx, task, view, {str(k): str(v) for k, v in env.items()})
        assert isinstance(items, Brackets)
        if not replace:
            ctx.need("os")
            items = Brackets("{", "}", ["**os.environ", *items.items])
        args.append(Kw("env", items))
    if mapped_cwd:
        args.append(Kw("cwd", mapped_cwd))
    elif cwd:
        args.append(Kw("cwd", text(ctx, task, view, str(cwd))))
    # check=False: the output is printed before check_returncode() fails the
    # task, so a failure's log shows it. ``run`` imported by name keeps the
    # call on one line.
    args += [Kw("capture_output", "True"), Kw("text", "True"), Kw("check", "False")]
    lines += stmt("result = ", Call("run", args))
    lines.append("    print(result.stdout + result.stderr)")
    lines.append("    result.check_returncode()")
    if capture:
        lines.append("    return result.stdout")
    return lines


def computed_shell(ctx: Ctx, task: Task, why: str) -> None:
    ctx.add(
        loss(
            "BP128",
            f"the command is {why} when the task runs: a Prefect reader sees a python task",
            task=task,
            target="subprocess.run",
        )
    )


# A shell action whose command a user function returns (Airflow's @task.bash):
# the function is kept and called; these fields say how.
COMMAND_FUNCTION_FIELDS = {"callable", "decorator", "op_args", "op_kwargs", "source_code"}


def command_function(task: Task) -> bool:
    """Whether a shell action's command is the kept source of what its
    function returns (a frontend could not evaluate it) and the function can
    run as pasted: self-contained, every parameter given by the task's
    arguments or a default (none that Airflow fills from the run's context).
    Then the task calls it to compute the command."""
    f = task.action.fields
    source, command = f.get("source_code"), f.get("command")
    if not (f.get("callable") and isinstance(source, str) and isinstance(command, str)):
        return False
    fs = function_source(source)
    if fs is None or fs.free_names:
        return False
    fn = ast.parse(fs.text).body[0]
    assert isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef))
    a = fn.args
    positional = [*a.posonlyargs, *a.args]
    given = set(f.get("op_kwargs") or {})
    free = positional[len(f.get("op_args") or []) : len(positional) - len(a.defaults)]
    unfilled = [p for p in free if p.arg not in given] + [
        p
        for p, d in zip(a.kwonlyargs, a.kw_defaults, strict=True)
        if d is None and p.arg not in given
    ]
    if unfilled or a.kwarg is not None:
        return False
    returns = [n for n in ast.walk(fn) if isinstance(n, ast.Return) and n.value is not None]
    return len(returns) == 1 and ast.get_source_segment(fs.text, returns[0].value) == command


def _shell(ctx: Ctx, task: Task, view: TaskView) -> None:
    f = task.action.fields
    if command_function(task):
        # the command is what the user's function returns when the task runs
        computed_shell(ctx, task, f"returned by {f['callable']}()")
        cmd: Expr = user_call(ctx, task, view, "command")
        view.body += shell_lines(
            ctx, task, view, cmd, env_mapping(f), f.get("cwd"), bool(f.get("capture_output"))
        )
        return
    command = shell_command(f)
    cmd = text(ctx, task, view, command)
    texts = [cmd] + [
        text(ctx, task, None, str(v))
        for v in [*(env_mapping(f) or {}).values(), f.get("cwd") or ""]
    ]
    if any(isinstance(t, Call) for t in texts):
        computed_shell(ctx, task, "rendered from its template")
    view.body += shell_lines(
        ctx, task, view, cmd, env_mapping(f), f.get("cwd"), bool(f.get("capture_output"))
    )


def context_kwargs(ctx: Ctx, task: Task, view: TaskView, fs: Any, given: set[str]) -> None:
    """Airflow passes a callable the context values it asks for by name
    (``ds``, ``logical_date`` ...): the flow passes them too."""
    for p in fs.params:
        if p in given or p not in CONTEXT_ARGS:
            continue
        run_value, spec = CONTEXT_ARGS[p]
        var = ctx.names.dates[run_value]
        _uses(view, {var}, [])
        if spec is None:
            view.kwargs[p] = f"{var}.isoformat()"
        elif spec:
            view.kwargs[p] = f'f"{{{var}:{spec}}}"'
        else:
            view.kwargs[p] = var
    asked = sorted((set(fs.params) - given - set(CONTEXT_ARGS)) & (OTHER_CONTEXT | {"params"}))
    if asked or (fs.varkw and fs.uses_varkw):
        what = ", ".join(asked) if asked else f"**{fs.varkw_name}"
        ctx.add(
            loss(
                "BP131",
                f"the callable asks for Airflow context ({what}): Prefect passes "
                + ", ".join(sorted(k for k in view.kwargs if k in CONTEXT_ARGS) or ["nothing"]),
                task=task,
                target="@task",
            )
        )


def _python(ctx: Ctx, task: Task, view: TaskView) -> None:
    from wfconv.backends.common import luigi_task_class

    luigi = luigi_task_class(task)
    if luigi is not None:
        _luigi(ctx, task, view, luigi)
        return
    call_user(ctx, task, view, "callable")


def call_user(ctx: Ctx, task: Task, view: TaskView, what: str) -> None:
    """The task calls the user's callable with its arguments (the flow may
    turn a kept function into the task itself: ``emit``)."""
    view.body += stmt("return ", user_call(ctx, task, view, what))


def user_call(ctx: Ctx, task: Task, view: TaskView, what: str) -> Call:
    """The call of the task's user callable with its arguments."""
    f = task.action.fields
    ref = callable_ref(ctx, task, what)
    op_args = list(f.get("op_args") or [])
    op_kwargs = dict(f.get("op_kwargs") or {})
    args: list[Expr] = [_arg(ctx, task, view, a) for a in op_args]
    for k, v in op_kwargs.items():
        if is_dotted_name(k) and "." not in k:
            args.append(Kw(k, _arg(ctx, task, view, v)))
        else:
            args.append(Kw(None, Brackets("{", "}", [Pair(py_str(k), _arg(ctx, task, view, v))])))
    for original, param in (view.mapped or {}).items():
        if is_dotted_name(original) and "." not in original:
            args.append(Kw(original, param))
        else:
            args.append(Kw(None, f"{{{py_str(original)}: {param}}}"))
    return Call(ref, args)


def _luigi(ctx: Ctx, task: Task, view: TaskView, luigi: tuple[str, str, dict[str, str]]) -> None:
    """A Luigi task instance: its requirements are the flow's edges; it runs
    only when its outputs do not all exist yet (Luigi's complete()), with the
    workflow's parameters it shares. When the reader rewrote its run() as a
    self-contained function (frontends/luigi/standalone.py), the task calls
    that with its paths and parameters instead: no Luigi, no source module."""
    from wfconv.backends.common import luigi_standalone
    from wfconv.backends.pycode import literal

    standalone = luigi_standalone(task)
    why = task.extra["luigi"].get("not_standalone") or "no standalone form was read"
    moving = [k for k in task.extra["luigi"].get("path_params", []) if k in ctx.workflow.params]
    if standalone is not None and moving:
        # the paths were evaluated with the defaults; a run may pass others
        why = f"its paths depend on the flow parameter(s) {', '.join(moving)}"
        standalone = None
    if standalone is not None:
        fs, kwargs = standalone
        ctx.kept.setdefault(fs.name, (fs.text, task))
        ref = ctx.callables.setdefault((None, fs.name), len(ctx.callables))
        args: list[Expr] = []
        for k, v in kwargs.items():
            if k in task.params and k in ctx.workflow.params:  # the run's value
                _uses(view, set(), [k])
                args.append(Kw(k, ctx.param_args[k]))
            else:
                args.append(Kw(k, literal(v, py_literal)))
        view.body += stmt("return ", Call(f"<callable:{ref}>", args))
        return
    module, cls, params = luigi
    key = (module, cls)
    if key not in ctx.callables:
        ctx.callables[key] = len(ctx.callables)
    ctx.add(
        loss(
            "BP123",
            f"runs {cls}(...).run() outside Luigi's scheduler (Luigi must be installed on the "
            f"worker); skipped when its outputs already exist; its run() is not converted: {why}",
            task=task,
            target="@task",
        )
    )
    shared = [k for k in params if k in ctx.workflow.params]
    items: list[Expr] = []
    for k, v in params.items():
        if k in shared:
            # the run's value, as the text Luigi's parameter parses
            _uses(view, set(), [k])
            arg = ctx.param_args[k]
            default = ctx.workflow.params[k]
            if isinstance(default, bool):
                spelled = f"str({arg}).lower()"
            elif isinstance(default, (list, dict)):
                ctx.need("json")
                spelled = f"json.dumps({arg})"
            elif isinstance(default, str):
                spelled = arg
            else:
                spelled = f"str({arg})"
            items.append(Pair(py_str(k), spelled))
        else:
            items.append(Pair(py_str(k), text(ctx, task, view, v)))
    build = Call(f"<callable:{ctx.callables[key]}>.from_str_params", [Brackets("{", "}", items)])
    view.body += stmt("instance = ", build)
    view.body.append("    if not instance.complete():")
    view.body.append("        instance.run()")


def _empty(ctx: Ctx, task: Task, view: TaskView) -> None:
    if not view.gate:  # a gated task is its gate
        view.body.append("    pass")


def _branch(ctx: Ctx, task: Task, view: TaskView) -> None:
    f = task.action.fields
    ctx.add(
        loss(
            "BP127",
            "Prefect has no branch task: the task returns the ids to follow and the gate of "
            "each downstream task skips it when not chosen",
            task=task,
            severity="info",
            target="gate",
        )
    )
    downstream = ctx.g.down[task.id]
    if f.get("short_circuit"):
        ref = callable_ref(ctx, task, "condition")
        view.body += stmt("return ", f"{py_literal(downstream)} if {ref}() else []")
        if f.get("ignore_downstream_trigger_rules", True):
            ctx.add(
                loss(
                    "BP120",
                    "a false condition skips the direct downstream tasks; further tasks follow "
                    "their trigger rules (Airflow skips every downstream task)",
                    task=task,
                    target="gate",
                )
            )
        return
    if f.get("callable"):
        call_user(ctx, task, view, "chooser")
        return
    if dec.is_decision(f):
        _decision(ctx, task, view)
        return
    if f.get("default") is not None:
        view.body.append(f"    return {py_literal(f['default'])}")
        return
    ctx.add(
        loss(
            "BP103",
            "no callable and no cases: every direct downstream is followed",
            task=task,
            target="@task",
        )
    )
    view.body.append(f"    return {py_literal(downstream)}")


def _decision(ctx: Ctx, task: Task, view: TaskView) -> None:
    """An Oozie decision: its EL cases as Python predicates over the flow's
    parameters, walked in order by wfconv_decide."""
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
    if d.uses_fs:
        ctx.need("os")
    params = list(ctx.workflow.params)
    _uses(view, set(), params)
    pairs = Brackets("{", "}", [Pair(py_str(k), ctx.param_args[k]) for k in params])
    view.body += stmt("return ", Call("wfconv_decide", [py_str(task.id), pairs]))


def _sensor(ctx: Ctx, task: Task, view: TaskView) -> None:
    f = task.action.fields
    cls = str(f.get("sensor") or "")
    target = f.get("target")
    poke = compact_number(float(f.get("poke_interval_s") or _SENSOR_DEFAULT_POKE))
    timeout = compact_number(float(f.get("timeout_s") or _SENSOR_DEFAULT_TIMEOUT))
    soft = bool(f.get("soft_fail"))
    if (
        isinstance(target, str)
        and target
        and cls in ("FileSensor", "HdfsSensor", "WebHdfsSensor", "")
    ):
        if "://" in target and not target.startswith("file://"):
            check: Expr = Call(f"lambda: {ctx.helper('glob_url')}", [text(ctx, task, view, target)])
            where = "its file system through fsspec"
        else:
            ctx.need("glob")
            path = text(ctx, task, view, target.removeprefix("file://"))
            check = Call("lambda: glob.glob", [path])
            where = "the local file system"
        ctx.add(
            loss(
                "BP104",
                f"{cls or 'sensor'} emitted as a task polling {where} for {target!r} "
                "(no reschedule mode)",
                task=task,
                severity="info",
                target="poll",
            )
        )
    else:
        label = cls or "sensor"
        message = f"wfconv: {label} has no Prefect equivalent; write the check for {target!r}"
        view.body += stmt("raise ", call("NotImplementedError", py_str(message)))
        ctx.add(
            loss(
                "BP132",
                f"{label} has no Prefect equivalent: the task raises NotImplementedError",
                task=task,
                target="poll",
            )
        )
        return
    if f.get("args") or f.get("mode"):
        dropped = sorted((f.get("args") or {}).keys()) + (["mode"] if f.get("mode") else [])
        ctx.add(
            loss(
                "BP118",
                f"sensor settings not used by the polling task: {', '.join(map(str, dropped))}",
                task=task,
                severity="info",
                target="poll",
            )
        )
    args: list[Expr] = [check, repr(poke), repr(timeout)]
    if soft:
        args.append(Kw("soft_fail", "True"))
        ctx.add(
            loss(
                "BP121",
                "soft_fail: on timeout the task ends Completed named Skipped",
                task=task,
                severity="info",
                target="skipped",
            )
        )
    view.body += stmt("return ", Call(ctx.helper("poll"), args))


def _email(ctx: Ctx, task: Task, view: TaskView) -> None:
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
    view.body.append("    message = EmailMessage()")
    view.body += stmt('message["To"] = ', text(ctx, task, view, ", ".join(map(str, to))))
    for key, header in (("cc", "Cc"), ("bcc", "Bcc")):
        if f.get(key):
            val = f[key] if isinstance(f[key], list) else [f[key]]
            joined = text(ctx, task, view, ", ".join(map(str, val)))
            view.body += stmt(f"message[{py_str(header)}] = ", joined)
    subject = text(ctx, task, view, str(f.get("subject") or ""))
    view.body += stmt('message["Subject"] = ', subject)
    body = text(ctx, task, view, str(f.get("body") or ""))
    view.body += stmt("", Call("message.set_content", [body]))
    view.body.append('    with smtplib.SMTP("localhost") as server:')
    view.body.append("        server.send_message(message)")


def placeholder(ctx: Ctx, task: Task, view: TaskView, what: str) -> None:
    ctx.add(
        loss(
            "BP105",
            f"{what} has no Prefect equivalent: the task raises NotImplementedError",
            task=task,
            target="@task",
        )
    )
    message = f"wfconv: {what} (task {task.id}) has no Prefect equivalent; replace this body"
    view.body += stmt("raise ", call("NotImplementedError", py_str(message)))


def _sql(ctx: Ctx, task: Task, view: TaskView) -> None:
    f = task.action.fields
    sql = f.get("sql") or ""
    statements = sql if isinstance(sql, list) else [sql]
    view.body.append(f"    # connection: {py_comment(str(f.get('conn_id')))}")
    for stmt in statements:
        for line in str(stmt).splitlines() or [""]:
            view.body.append(f"    # {py_comment(line)}".rstrip())
    placeholder(ctx, task, view, f"SQL on connection {f.get('conn_id')!r}")


def _container(ctx: Ctx, task: Task, view: TaskView) -> None:
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
    view.body += shell_lines(ctx, task, view, text(ctx, task, view, shlex.join(words)))


def _subworkflow(ctx: Ctx, task: Task, view: TaskView) -> None:
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
    from wfconv.backends.prefect import parameter_names

    ctx.need("prefect.deployments", "run_deployment")
    args: list[Expr] = [py_str(f"{name}/{name}")]
    inherited = inherited_parameters(ctx, task, view)
    conf = {k: v for k, v in dict(f.get("conf") or {}).items() if k not in inherited}
    if conf or inherited:
        # the called flow's arguments, named as wfconv names a flow's parameters
        arg = parameter_names([*inherited, *map(str, conf)])
        pairs: list[Expr] = [Pair(py_str(arg[k]), v) for k, v in inherited.items()]
        pairs += [Pair(py_str(arg[str(k)]), _arg(ctx, task, view, v)) for k, v in conf.items()]
        args.append(Kw("parameters", Brackets("{", "}", pairs)))
    if f.get("wait_for_completion") is False:
        args.append(Kw("timeout", "0"))
    view.body += stmt("called = ", Call("run_deployment", args))
    if f.get("wait_for_completion") is not False:
        view.body.append("    if not called.state.is_completed():")
        view.body += stmt(
            "raise ", call("RuntimeError", py_str(f"sub-workflow {name} did not complete")), depth=2
        )
    view.body.append("    return str(called.id)")


def inherited_parameters(ctx: Ctx, task: Task, view: TaskView) -> dict[str, str]:
    """propagate_configuration (Oozie): the child gets this run's parameters
    (parameter name -> the task's argument holding it)."""
    if not task.action.get("propagate_configuration") or not ctx.workflow.params:
        return {}
    ctx.add(
        loss(
            "BP124",
            "propagate_configuration: this run's parameters are passed to the child",
            task=task,
            severity="info",
            target="flow parameters",
        )
    )
    _uses(view, set(), list(ctx.workflow.params))
    return {k: ctx.param_args[k] for k in ctx.workflow.params}


def _call_child_flow(ctx: Ctx, task: Task, view: TaskView, child: Workflow) -> None:
    """The child is in the bundle: its module is written beside this one, so
    the task imports its flow and runs it as a nested flow run (it fails when
    the child run fails, like a sub-workflow action)."""
    from wfconv.backends.prefect import flow_signature

    flow_fn, params = flow_signature(child)
    key = (file_stem(child.id), flow_fn)
    if key not in ctx.callables:
        ctx.callables[key] = len(ctx.callables)
    conf = dict(task.action.get("conf") or {})
    inherited = {
        k: v
        for k, v in inherited_parameters(ctx, task, view).items()
        if k in params and k not in conf
    }
    args: list[Expr] = [Kw(params[k], v) for k, v in inherited.items()]
    args += [Kw(params[k], _arg(ctx, task, view, v)) for k, v in conf.items() if k in params]
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
    view.body += stmt("return ", Call(f"<callable:{ctx.callables[key]}>", args))


def _fail(ctx: Ctx, task: Task, view: TaskView) -> None:
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
    view.body += stmt("raise ", call("RuntimeError", text(ctx, task, view, message)))


def _hadoop(ctx: Ctx, task: Task, view: TaskView) -> None:
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
    cmd = text(ctx, task, view, command)
    view.body += shell_lines(ctx, task, view, cmd, capture=bool(f.get("capture_output")))


def _external(ctx: Ctx, task: Task, view: TaskView) -> None:
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
        view.body.append("    pass")
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
    view.body += stmt("if not ", call("glob.glob", text(ctx, task, view, str(out))), ":")
    view.body += stmt(
        "raise ", call("FileNotFoundError", py_str(f"external data {out} is missing")), depth=2
    )
    view.body.append("    return True")


def _opaque(ctx: Ctx, task: Task, view: TaskView) -> None:
    placeholder(ctx, task, view, str(task.action.get("type") or task.action.kind))


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


def kept_function(task: Task) -> Any:
    """The user's own function behind a python task (or a branch's chooser),
    when the frontend kept its source and it runs as pasted (no names of its
    original module)."""
    f = task.action.fields
    kind = task.action.kind
    if kind not in ("python", "branch") or f.get("module"):
        return None
    if kind == "branch" and (f.get("short_circuit") or not f.get("callable")):
        return None
    fs = function_source(f.get("source_code"))
    if fs is None or fs.free_names:
        return None
    return fs
