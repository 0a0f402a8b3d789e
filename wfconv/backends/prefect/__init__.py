"""IR -> a Prefect 3 flow module: plain ``@task`` functions and one ``@flow``.

What a Prefect user would write, with Airflow's meaning kept:

- Tasks are plain functions. A kept user function (the source's own
  callable, pasted) is the task itself, decorated with ``@task``; shell
  commands run with ``subprocess`` and print their output (the flow sets
  ``log_prints``, so it reaches Prefect's logs).
- Templates become f-strings over the run's values (``logical_date``, the
  flow's parameters), which the flow passes to the tasks that read them; the
  run's logical date is its scheduled start (``run_dates``) unless given as
  the flow's ``logical_date`` parameter (a backfill, a rerun of a past date).
- A chain of tasks with Airflow's default rule is a chain of calls; any
  other graph is ``.submit(wait_for=[...])`` and the flow returns its leaf
  futures, so that a failed leaf fails the run as in Airflow.
- Only where Prefect has no word for Airflow's semantics (trigger rules other
  than all_success/all_done, branches, setup/teardown, sensors, templates an
  f-string cannot say, catch-up) does the flow import the helper module
  ``wfconv_prefect``, written once beside the flows of an output folder
  (docs/output.md). Then every task with upstreams receives them as
  ``upstream=allow_failure({...})`` and starts with
  ``if not gate(rule, upstream, ...): return skipped()`` (docs/semantics.md R1).

Everything Prefect cannot say is a ``loss()`` in the ledger (codes ``CODES``).
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from wfconv.backends import decisions as dec
from wfconv.backends.common import (
    KNOWN_ACTION_FIELDS,
    Emitted,
    GraphIndex,
    annotation_names,
    callable_imports_for,
    compact_number,
    env_mapping,
    file_stem,
    identifier_map,
    import_block,
    local_functions,
    loss,
    mapped_columns,
    module_docstring,
    py_comment,
    py_literal,
    py_str,
    retry_delays,
    schedule_period,
    shell_command,
    topo_order,
    xcom_ref,
)
from wfconv.backends.fstrings import Names
from wfconv.backends.prefect import actions as act
from wfconv.backends.prefect.actions import HELPER_MODULE, Ctx, TaskView
from wfconv.backends.prefect.serve import BANNED_NAME_CHARACTERS, flow_name, main_call
from wfconv.backends.prefect.serve import cron_to_rrule as cron_to_rrule
from wfconv.backends.pycode import Brackets, Call, Expr, Kw, Pair, statement
from wfconv.ir.model import TRIGGER, Task, Workflow
from wfconv.ir.roles import role_facts

TARGET = "prefect"
HELPER_SOURCE_PATH = Path(__file__).parent.parent / "shipped" / f"{HELPER_MODULE}.py"
# The helper module's wfconv_run_dates for a cron in the data-interval model.
HELPER_CRON_DATES = "cron_interval_dates"
# Files shared by every flow of an output folder (written once).
HELPER_MODULES = (f"{HELPER_MODULE}.py",)

CODES: dict[str, str] = {
    "BP101": "python callable without a known module: the task raises NotImplementedError",
    "BP102": "decision case with no Python translation over the parameters: left out, never matches",
    "BP103": "branch task without callable or cases: every downstream is followed",
    "BP104": "file sensor emitted as a polling task",
    "BP105": "action without a Prefect equivalent: the task raises NotImplementedError or runs a placeholder command",
    "BP106": "Luigi ExternalTask: the task checks that the output exists",
    "BP107": "sub-workflow emitted as a nested flow run (child in the bundle) or run_deployment",
    "BP108": "email sent with smtplib on localhost",
    "BP109": "container run with docker",
    "BP110": "mapped task: product expanded to zipped lists / run-time input not mapped",
    "BP111": "data passed between tasks: emitted as ordering only",
    "BP112": "trigger rule emulated by the helper module's gate, which applies Airflow's rule table in the task",
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
    "BP123": "Luigi task: its run() is called outside Luigi's scheduler, when its outputs do not exist",
    "BP124": "sub-workflow with propagate_configuration: this run's parameters are passed to the child",
    "BP125": "task groups flattened (Prefect has no task groups)",
    "BP126": "fail/kill task raises: running tasks are not stopped, KILLED becomes Failed",
    "BP127": "branch task emulated (returns ids; the downstream gates skip the rest)",
    "BP128": "shell command computed at run time (template or mapping): read back as a python task",
    "BP129": "setup/teardown task: Airflow's rules emulated by the helper module's gate",
    "BP130": "flow name with characters Prefect refuses (/ % & < >): replaced by _",
    "BP131": "callable asks for Airflow context Prefect does not pass",
    "BP132": "sensor with no Prefect equivalent: the task raises NotImplementedError",
    "BP133": "template an f-string cannot say: rendered at run time in jinja2's sandbox",
    "BP201": "catchup: Prefect never creates runs for past schedule times",
    "BP202": "start_date/end_date not expressible (interval end; cron without an RRULE spelling)",
    "BP203": "dataset/asset schedule: needs a Prefect automation (served without schedule)",
    "BP204": "schedule 'once' without a start date: the flow runs once when the module is run",
    "BP205": "parameter name is not a snake_case identifier: renamed",
    "BP206": "schedule timezone unknown: UTC used",
    "BP207": "run timeout emitted as flow timeout_seconds (unfinished tasks are not marked skipped)",
    "BP208": "schedule @once: one run at the start date; none when that date has passed",
}

# Rules Prefect expresses natively (allow_failure for the last two).
_NATIVE_RULES = {"all_success": False, "all_done": True, "always": True}

# Names of the generated module a task, parameter or variable must not take:
# imports, the helper module's names, and the locals of generated bodies.
_MODULE_NAMES = (
    "annotations",
    "datetime",
    "glob",
    "os",
    "smtplib",
    "subprocess",
    "run",
    "timedelta",
    "relativedelta",
    "flow",
    "task",
    "allow_failure",
    "unmapped",
    "flow_run",
    "run_deployment",
    "Cron",
    "Interval",
    "RRule",
    "EmailMessage",
    "wfconv_decide",
    "WFCONV_DECISIONS",
    "fs_exists",
    *dec.helper_names(),
    HELPER_MODULE,
    "gate",
    "skipped",
    "poll",
    "glob_url",
    "render",
    "retryable",
    "backfill",
    "cron_interval_dates",
    "wfconv_backfill",
    "upstream",
    "also",
    "result",
    "instance",
    "message",
    "server",
    "called",
    "logical_date",
    "data_interval_start",
    "data_interval_end",
    "prev_logical_date",
    "next_logical_date",
)


# --- names -------------------------------------------------------------------------


def _param_names(w: Workflow) -> dict[str, str]:
    """Parameter -> flow argument of ``w`` (``parameter_names``)."""
    return parameter_names(list(w.params))


def parameter_names(params: list[str]) -> dict[str, str]:
    """Parameter -> flow argument: the flow's parameters are its public API
    (deployments pass them by name), so they keep their names whenever they
    are snake_case identifiers; others (Oozie's ``nameNode``) become
    snake_case (``name_node``), as PEP 8 names arguments, and the ledger
    names each (BP205); task functions and the flow function avoid them.
    Prefect's parameters form a pydantic model, which refuses a name with a
    leading underscore: those lose it. A caller of a flow wfconv wrote but
    did not read passes its parameters under these names."""
    names = identifier_map(params, reserved=set(_MODULE_NAMES), style="snake")
    taken = set(names.values()) | set(_MODULE_NAMES)
    for param, arg in names.items():
        if arg.startswith("_"):
            base = arg.lstrip("_") or "param"
            names[param] = identifier_map([base], reserved=taken)[base]
            taken.add(names[param])
    return names


def _kept_names(w: Workflow) -> dict[str, str]:
    """Task id -> the pasted user function that is the task (kept callables
    used by exactly one task)."""
    counts: dict[str, int] = {}
    for t in w.tasks:
        fs = act.kept_function(t)
        if fs is not None:
            counts[fs.name] = counts.get(fs.name, 0) + 1
    out = {}
    for t in w.tasks:
        fs = act.kept_function(t)
        if fs is not None and counts[fs.name] == 1 and fs.name not in _MODULE_NAMES:
            out[t.id] = fs.name
    return out


def task_functions(w: Workflow) -> dict[str, str]:
    """Task id -> the generated ``@task`` function name: the user's function
    when the task is one, else the id in snake_case."""
    kept = _kept_names(w)
    reserved = set(_MODULE_NAMES) | set(_param_names(w).values()) | set(kept.values())
    others = [t for t in w.task_ids() if t not in kept]
    names = identifier_map(others, reserved=reserved, style="snake")
    return {t: kept.get(t) or names[t] for t in w.task_ids()}


def flow_signature(w: Workflow) -> tuple[str, dict[str, str]]:
    """(flow function name, parameter -> argument name) of the emitted module:
    what another module needs to import and call this flow."""
    params = _param_names(w)
    reserved = set(_MODULE_NAMES) | set(task_functions(w).values()) | set(params.values())
    flow_fn = identifier_map([w.id], style="snake")[w.id]
    if flow_fn in reserved:  # a task of the same name (a Luigi root task)
        flow_fn = identifier_map([f"{flow_fn}_flow"], reserved=reserved)[f"{flow_fn}_flow"]
    return flow_fn, params


def task_id_map(w: Workflow) -> dict[str, str]:
    """Source task id -> the id the Prefect frontend reads back (verify uses it)."""
    return prefect_names(w)


def prefect_names(w: Workflow) -> dict[str, str]:
    """Task id -> the Prefect task name emitted: the id itself, except the
    empty id, which Prefect replaces by the function name."""
    fns = task_functions(w)
    return {t: t if t else fns[t] for t in w.task_ids()}


# --- the run's dates -----------------------------------------------------------------


def run_dates(w: Workflow) -> list[tuple[str, str]]:
    """How a flow run gets its dates: ``(target, expression)`` statements of
    the flow body that bind ``logical_date``, ``data_interval_start`` and
    ``data_interval_end``. An expression that is an earlier variable makes the
    name an alias (the flow writes no line for it). A run's dates come from
    Prefect's scheduled start time in the workflow's time model
    (``run_dates_source``, docs/semantics.md R3), or from the flow's
    ``logical_date`` parameter (a backfill, a rerun of a past date).

    In the trigger model without an interval the run sees its tick: the
    logical date is the scheduled start and the data interval has no length
    (``return when, when, when``), said inline; any other model calls the
    module's ``wfconv_run_dates``."""
    if _plain_trigger(w):
        return [
            ("logical_date", "logical_date or flow_run.scheduled_start_time"),
            ("data_interval_start", "logical_date"),
            ("data_interval_end", "logical_date"),
        ]
    return [
        (
            "logical_date, data_interval_start, data_interval_end",
            "wfconv_run_dates(\n        logical_date or flow_run.scheduled_start_time, "
            "logical_date is not None\n    )",
        )
    ]


def _timed(w: Workflow) -> bool:
    s = w.schedule
    return bool((s.kind == "cron" and s.cron) or (s.kind == "interval" and s.seconds))


def _plain_trigger(w: Workflow) -> bool:
    s = w.schedule
    return (s.time_model == TRIGGER or not _timed(w)) and not s.interval_s


def run_dates_source(w: Workflow) -> str:
    """Source of ``wfconv_run_dates(when, backfilled)``: a Prefect run's
    (logical_date, data_interval_start, data_interval_end) from its scheduled
    start time ``when`` (or, for a run of ``wfconv_backfill``, from its
    logical date), in the workflow's time model (docs/semantics.md R3).

    Prefect starts a run at its tick. In the trigger model (Airflow 3,
    Oozie, Prefect) the run sees the tick, less ``interval_s`` for the
    interval's start. In the data-interval model (Airflow 2) the run at a
    tick covers the interval that ends there: its logical date is the tick
    before (a manual run covers the last complete interval); a cron's ticks
    need cronsim, so there it is the helper module's ``cron_interval_dates``."""
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
        # a cron's ticks need cronsim: the helper module's function
        args = [py_str(s.cron)] + ([py_str(s.timezone)] if (s.timezone or "UTC") != "UTC" else [])
        return f"wfconv_run_dates = {HELPER_CRON_DATES}({', '.join(args)})\n"
    lines = [
        "def wfconv_run_dates(when, backfilled=False):",
        '    """(logical_date, data_interval_start, data_interval_end) of the run',
        "    scheduled at WHEN, or whose logical date is WHEN when backfilled:",
        f'    {why}."""',
    ]
    lines += [f"    {line}" if line else "" for line in body]
    return "\n".join(lines) + "\n"


def _names(ctx_params: dict[str, str], w: Workflow) -> Names:
    dates: dict[str, str] = {}
    for target, expr in run_dates(w):
        for name in target.split(", "):
            dates[name] = dates.get(expr, expr) if expr in dates else name
    period = schedule_period(w)
    if period is not None:
        dates["prev_logical_date"] = "prev_logical_date"
        dates["next_logical_date"] = "next_logical_date"
    return Names(dates, dict(ctx_params), "flow_run.id", w.id or None)


# --- the graph shape -------------------------------------------------------------


def _gated_tasks(w: Workflow, g: GraphIndex) -> set[str]:
    """Tasks that need the gate: once any rule is not native, a branch or a
    soft-failing sensor can skip, or a task has a setup/teardown role, every
    task with upstreams is gated, so that no upstream is ever NotReady (a
    NotReady upstream's value is None, like a success's)."""
    needed = any(
        t.trigger_rule not in _NATIVE_RULES
        or t.role is not None
        or t.action.kind == "branch"
        or (t.action.kind == "sensor" and t.action.get("soft_fail"))
        for t in w.tasks
    )
    return {t.id for t in w.tasks if g.up[t.id]} if needed else set()


def _is_chain(w: Workflow, order: list[str], g: GraphIndex, gated: set[str]) -> bool:
    """A path of all_success tasks: direct calls say it (a failure raises in
    the flow and nothing after it runs, as Airflow's upstream_failed)."""
    if gated or not order:
        return False
    for i, tid in enumerate(order):
        t = g.tasks[tid]
        if t.trigger_rule != "all_success" or t.mapped or t.role:
            return False
        if g.up[tid] != ([order[i - 1]] if i else []):
            return False
    return True


def _task_options(ctx: Ctx, task: Task, view: TaskView, name: str, gated: bool) -> list[Kw]:
    opts: list[Kw] = []
    if name != view.fn:
        opts.append(Kw("name", py_str(name)))
    if task.retries:
        opts.append(Kw("retries", str(int(task.retries))))
        delays = retry_delays(task, default=None)
        if task.retry_delay_s is not None or task.retry_backoff == "exponential":
            if len(set(delays)) == 1:
                opts.append(Kw("retry_delay_seconds", repr(compact_number(delays[0]))))
            elif delays:
                shown = [compact_number(d) for d in delays[:50]]
                if task.retry_backoff == "exponential" and not isinstance(task.retry_delay_s, list):
                    ctx.add(
                        loss(
                            "BP119",
                            f"exponential backoff expanded to {shown} "
                            "(Airflow hashes each delay within [d*2^(n-1), d*2^n))",
                            task=task,
                            severity="info",
                            target="retry_delay_seconds",
                        )
                    )
                opts.append(Kw("retry_delay_seconds", Brackets("[", "]", [repr(d) for d in shown])))
        if gated or task.action.kind == "sensor":
            opts.append(Kw("retry_condition_fn", ctx.helper("retryable")))
    if task.timeout_s is not None:
        opts.append(Kw("timeout_seconds", repr(compact_number(float(task.timeout_s)))))
    dropped = [
        label
        for label, present in (
            ("pool", task.pool),
            ("queue", task.queue),
            ("owner", task.owner),
            ("depends_on_past", task.depends_on_past),
            ("outputs", task.outputs),
        )
        if present
    ]
    if dropped and not (dropped == ["outputs"] and task.extra.get("luigi")):
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


def _role_gate(t: Task, gate: dict[str, Any], roles: Any) -> None:
    """Setup/teardown arguments of the task's gate: the flow passes the
    states of indirect setups and of a teardown's scope in ``also``; roles
    are named so that the Prefect reader gets them back."""
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


def _gate_lines(ctx: Ctx, gate: dict[str, Any]) -> list[str]:
    args: list[Expr] = [py_str(gate["rule"]), "upstream"]
    for key in ("branches", "setups", "requires"):
        if gate.get(key):
            args.append(Kw(key, Brackets("(", ")", [py_str(x) for x in gate[key]])))
    if gate.get("also"):
        args.append(Kw("also", "also"))
    for key in ("teardown", "fails_run"):
        if gate.get(key):
            args.append(Kw(key, "True"))
    lines = statement("if not ", Call(ctx.helper("gate"), args), ":", depth=1)
    lines.append(f"        return {ctx.helper('skipped')}()")
    return lines


def _mapping(ctx: Ctx, task: Task) -> dict[str, tuple[str, Any]] | None:
    """IR field -> (task parameter, values) for a mapped task, or None."""
    m = task.mapped
    if not m:
        return None
    over = mapped_columns(m)
    if set(over) != set(m.get("over") or {}):
        m = {**m, "kind": "zip"}  # expand_kwargs rows: one mapped run per row
    kind = task.action.kind
    supported = kind == "python" or (kind == "shell" and set(over) <= {"command", "env", "cwd"})
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
    params = identifier_map(names, reserved=["upstream", *_MODULE_NAMES])
    if runtime:
        return {
            k: (params[k], f"<data:{refs[k]}>" if k in runtime else list(over[k])) for k in names
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
    return {k: (params[k], columns[k]) for k in names}


# --- emit --------------------------------------------------------------------------


def emit(workflow: Workflow, **options: Any) -> Emitted:
    """Emit ``<workflow id>.py`` holding the tasks, the flow and a ``serve``
    entry point, and the helper module when the flow needs it.

    Options: ``workflows`` (the bundle's workflows by id): a called workflow
    found there is imported from its module (written beside) and run as a
    nested flow; otherwise ``run_deployment`` is used."""
    out, names = _emit(workflow, options)
    if any(len(placeholder) != len(name) for placeholder, name in names.items()):
        # the user callables' names are known now: lay the bodies out with them
        token = act.CALLABLE_NAMES.set(names)
        try:
            out, _ = _emit(workflow, options)
        finally:
            act.CALLABLE_NAMES.reset(token)
    return out


def _emit(workflow: Workflow, options: dict[str, Any]) -> tuple[Emitted, dict[str, str]]:
    """The output, and each user callable's placeholder -> name in the module."""
    w = workflow
    flow_fn, param_args = flow_signature(w)
    ctx = Ctx(
        w,
        _names(param_args, w),
        workflows=dict(options.get("workflows") or {}),
        param_args=param_args,
    )
    g = ctx.g
    order = topo_order(w)
    gated = _gated_tasks(w, g)
    roles = role_facts(w)
    chain = _is_chain(w, order, g, gated)
    fns = task_functions(w)
    kept = _kept_names(w)
    names = prefect_names(w)
    _name_losses(ctx, w, flow_fn, param_args, names)

    views: dict[str, TaskView] = {}
    for t in w.tasks:
        views[t.id] = _task_view(ctx, t, fns[t.id], names[t.id], t.id in gated, roles, kept)

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
    reserved = set(_MODULE_NAMES) | set(fns.values()) | set(param_args.values()) | {flow_fn}
    keys = list(ctx.callables)
    exprs, callable_imports, stubs = callable_imports_for(keys, reserved)
    functions, stub_losses = local_functions(stubs, ctx.kept, "BP101", "python stub")
    ctx.losses.extend(stub_losses)
    for view in views.values():
        view.body = [_resolve_callables(line, keys, exprs) for line in view.body]

    flow_lines = _flow(ctx, w, order, views, fns, gated, chain, roles, flow_fn)
    main = main_call(ctx, flow_fn)
    module_lines = _module(ctx, w, views, functions, flow_lines, main, flow_fn, callable_imports)
    from wfconv.backends.common import format_python

    name = f"{file_stem(w.id)}.py"
    files = {name: format_python("\n".join(module_lines) + "\n", name)}
    if ctx.helpers:
        files[HELPER_MODULES[0]] = HELPER_SOURCE_PATH.read_text(encoding="utf-8")
    diagnostics = sorted(ctx.losses, key=lambda d: (d.line or 0, d.code))
    names = {f"<callable:{i}>": exprs[key] for i, key in enumerate(keys)}
    return Emitted(files, diagnostics, shared=set(files) & set(HELPER_MODULES)), names


def _name_losses(
    ctx: Ctx, w: Workflow, flow_fn: str, param_args: dict[str, str], names: dict[str, str]
) -> None:
    for original, name in param_args.items():
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
                f"Prefect refuses {' '.join(BANNED_NAME_CHARACTERS)} in flow names: the flow is "
                f"named {flow_name(w, flow_fn)!r}",
                source=w,
                target="@flow(name=...)",
            )
        )


def _task_view(
    ctx: Ctx,
    t: Task,
    fn: str,
    name: str,
    gated: bool,
    roles: Any,
    kept: dict[str, str],
) -> TaskView:
    view = TaskView(fn=fn)
    mapped = _mapping(ctx, t)
    if mapped is not None:
        view.mapped = {k: p for k, (p, _) in mapped.items()}
        view.map_args = [
            (p, vals if isinstance(vals, str) else act.value(ctx, t, view, vals))
            for p, vals in mapped.values()
        ]
        view.mapped_from = [v[len("<data:") : -1] for _, v in mapped.values() if isinstance(v, str)]
    if gated:
        branches = [u for u in ctx.g.up[t.id] if ctx.g.tasks[u].action.kind == "branch"]
        view.gate = {"rule": t.trigger_rule, "branches": branches}
        _role_gate(t, view.gate, roles)
    if t.role is not None:
        ctx.add(
            loss(
                "BP129",
                f"{t.role} task: Airflow's setup/teardown rules emulated by the gate (upstream "
                "setups, the teardown's scope, run state without teardowns)",
                task=t,
                severity="info",
                target="gate",
            )
        )
    if t.id in kept:
        _kept_task(ctx, t, view)
    elif t.action.kind == "shell" and mapped:
        act.computed_shell(ctx, t, "a mapped argument")
        f = t.action.fields
        arg = {k: p for k, (p, _) in mapped.items()}
        command = arg.get("command") or act.text(ctx, t, view, shell_command(f))
        view.body += act.shell_lines(
            ctx,
            t,
            view,
            command,
            env_mapping(f),
            f.get("cwd"),
            bool(f.get("capture_output")),
            mapped_env=arg.get("env"),
            mapped_cwd=arg.get("cwd"),
        )
    else:
        act.BUILDERS.get(t.action.kind, act._opaque)(ctx, t, view)
    known = KNOWN_ACTION_FIELDS.get(t.action.kind, set())
    if t.action.kind == "shell" and act.command_function(t):
        known = known | act.COMMAND_FUNCTION_FIELDS
    unknown = sorted(set(t.action.fields) - known)
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
    view.doc = t.doc
    view.data = list(dict.fromkeys(view.data))
    view.options = _task_options(ctx, t, view, name, gated)
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
    if gated and t.trigger_rule != "all_done":
        ctx.add(
            loss(
                "BP112",
                f"trigger rule {t.trigger_rule} emulated by {HELPER_MODULE}.gate (Airflow's rule "
                "table, applied once every upstream has finished)",
                task=t,
                severity="info",
                target="gate",
            )
        )
    return view


def _kept_task(ctx: Ctx, t: Task, view: TaskView) -> None:
    """The task is the user's own function: the flow passes what Airflow
    passed it (op_args, op_kwargs, the context values it asks for)."""
    fs = act.kept_function(t)
    f = t.action.fields
    view.source = fs.text
    op_args = list(f.get("op_args") or [])
    op_kwargs = dict(f.get("op_kwargs") or {})
    view.params = list(fs.params)
    args = [act._arg(ctx, t, view, a) for a in op_args]
    for i, a in enumerate(args):
        if i < len(fs.params):
            view.kwargs[fs.params[i]] = a
    for k, v in op_kwargs.items():
        view.kwargs[k] = act._arg(ctx, t, view, v)
    for original in view.mapped or {}:
        view.kwargs.pop(original, None)
    given = set(fs.params[: len(op_args)]) | set(op_kwargs) | set(view.mapped or {})
    act.context_kwargs(ctx, t, view, fs, given)


def _resolve_callables(line: str, keys: list, exprs: dict) -> str:
    for i, key in enumerate(keys):
        line = line.replace(f"<callable:{i}>", exprs[key])
    return line


# --- the flow ------------------------------------------------------------------------


def _flow(
    ctx: Ctx,
    w: Workflow,
    order: list[str],
    views: dict[str, TaskView],
    fns: dict[str, str],
    gated: set[str],
    chain: bool,
    roles: Any,
    flow_fn: str,
) -> list[str]:
    g = ctx.g
    suffix = "_result" if chain else "_run"
    taken = set(_MODULE_NAMES) | {v.fn for v in views.values()} | set(ctx.param_args.values())
    runs = identifier_map([f"{views[t].fn}{suffix}" for t in order], reserved=taken)
    var = {t: runs[f"{views[t].fn}{suffix}"] for t in order}
    body: list[str] = []
    dates = {d for v in views.values() for d in v.dates}
    ctx.dated = bool(dates)
    if dates:
        ctx.need("prefect.runtime", "flow_run")
        steps = run_dates(w)
        for target, expr in steps:
            if expr not in {t for t, _ in steps}:
                names = target.split(", ")
                if len(names) > 1:  # what no task reads is not kept
                    names = [n if n in dates or n == "logical_date" else "_" for n in names]
                body.append(f"    {', '.join(names)} = {expr}")
        ctx.run_dates = not _plain_trigger(w)
        if ctx.run_dates:
            source = run_dates_source(w)
            if HELPER_CRON_DATES in source:
                ctx.helper(HELPER_CRON_DATES)
            if "datetime." in source:
                ctx.need("datetime")
            if "ZoneInfo(" in source:
                ctx.need("zoneinfo", "ZoneInfo")
        period = schedule_period(w)
        for name, sign in (("prev_logical_date", "-"), ("next_logical_date", "+")):
            if name in dates and period is not None:
                ctx.need("datetime")
                ((unit, n),) = period.items()
                body.append(f"    {name} = logical_date {sign} datetime.timedelta({unit}={n})")
    used_data = {u for v in views.values() for u in v.data + v.mapped_from}
    # plain tasks first (they never wait for gated ones), then gated ones
    ordered = [t for t in order if t not in gated] + [t for t in order if t in gated]
    for tid in ordered:
        t = g.tasks[tid]
        view = views[tid]
        args = _call_args(ctx, view, var, fns, chain)
        if chain:
            call = Call(view.fn, args)
            body += statement(f"{var[tid]} = " if tid in used_data else "", call, depth=1)
            continue
        mapped = view.map_args is not None
        ups = g.up[tid]
        if tid in gated:
            up = _futures(ups, var)
            args.append(Kw("upstream", _unmapped(ctx, Call("allow_failure", [up]), mapped)))
            ctx.need("prefect", "allow_failure")
            if (view.gate or {}).get("also"):
                also = _futures(view.gate["also"], var)
                args.append(Kw("also", _unmapped(ctx, Call("allow_failure", [also]), mapped)))
        else:
            tolerant = _NATIVE_RULES.get(t.trigger_rule, False)
            rest = [u for u in ups if u not in view.data and u not in view.mapped_from]
            if rest:
                items = [f"allow_failure({var[u]})" if tolerant else var[u] for u in rest]
                args.append(Kw("wait_for", Brackets("[", "]", items)))
            if tolerant and ups:
                ctx.need("prefect", "allow_failure")
        method = "map" if mapped else "submit"
        body += statement(f"{var[tid]} = ", Call(f"{view.fn}.{method}", args), depth=1)
    if not chain:
        # tasks nothing waits for and that do not decide the run (teardowns):
        # waited for, since Prefect does not wait for futures left behind
        waited = {u for t in order for u in g.up[t]} | set(roles.leaves)
        for t in order:
            if t not in waited:
                body.append(f"    {var[t]}.wait()")
        leaves = [var[t] for t in roles.leaves if t in var]
        mapped_leaves = {var[t] for t in roles.leaves if views[t].map_args is not None}
        items = [f"*{v}" if v in mapped_leaves else v for v in leaves]
        body += statement("return ", Brackets("[", "]", items), depth=1)
    return body


def _futures(ids: list[str], var: dict[str, str]) -> Brackets:
    return Brackets("{", "}", [Pair(py_str(u), var[u]) for u in ids])


def _unmapped(ctx: Ctx, e: Expr, mapped: bool) -> Expr:
    if not mapped:
        return e
    ctx.need("prefect", "unmapped")
    return Call("unmapped", [e])


def _call_args(
    ctx: Ctx, view: TaskView, var: dict[str, str], fns: dict[str, str], chain: bool
) -> list[Expr]:
    """What the flow passes: run values and parameters the body reads (by
    position, named like the flow's variables), upstream values, a kept
    function's arguments, mapped columns. Sets the task's parameters."""
    import re

    gated = view.gate is not None
    mapped = view.map_args is not None

    def resolve(e: Expr) -> Expr:
        if isinstance(e, str) and e.startswith("<data:"):
            ref = e[len("<data:") : -1]
            return f"allow_failure({var[ref]})" if gated else var[ref]
        if isinstance(e, Brackets):
            return Brackets(e.open, e.close, [resolve(i) for i in e.items])
        if isinstance(e, Pair):
            return Pair(e.key, resolve(e.value))
        if isinstance(e, Kw):
            return Kw(e.name, resolve(e.value))
        return e

    def pass_(e: Expr) -> Expr:
        e = resolve(e)
        return _unmapped(ctx, e, mapped) if mapped else e

    args: list[Expr] = []
    if view.source is not None:
        if gated and view.data:
            ctx.need("prefect", "allow_failure")
        for k, v in view.kwargs.items():
            args.append(Kw(k, pass_(v)))
    else:
        positional = [*view.dates, *(ctx.param_args[p] for p in view.flow_params)]
        params = list(positional)
        args += [pass_(p) for p in positional]
        # upstream values: a parameter each (by the keyword they are passed
        # as, when there is one), or the gate's ``upstream`` dict when gated
        taken = set(params) | set(_MODULE_NAMES)
        for ref in dict.fromkeys(re.findall(r"<data:([^>]*)>", "\n".join(view.body))):
            token = f"<data:{ref}>"
            if gated:
                name = f"upstream[{py_str(ref)}]"
            else:
                kw = re.search(r"(\w+)=" + re.escape(token), "\n".join(view.body))
                name = kw.group(1) if kw and kw.group(1) not in taken else f"{fns[ref]}_value"
                name = identifier_map([name], reserved=taken)[name]
                taken.add(name)
                params.append(name)
                args.append(pass_(var[ref]))
            view.body = [line.replace(token, name) for line in view.body]
        for k, v in view.kwargs.items():
            args.append(Kw(k, pass_(v)))
        view.params = params + view.params
    for p, vals in view.map_args or []:
        args.append(Kw(p, resolve(vals)))
        if view.source is None:
            view.params.append(p)
    if gated and view.source is None:
        view.params.append("upstream")
    if (view.gate or {}).get("also") and view.source is None:
        view.params.append("also")
    return args


# --- the module ----------------------------------------------------------------------


def _docstring(w: Workflow) -> list[str]:
    src = w.source
    origin = f"{src.path}:{src.line}" if src and src.path and src.line else (src and src.path)
    return module_docstring(w.description, origin, "Prefect 3")


_STDLIB = {
    "datetime",
    "json",
    "glob",
    "os",
    "smtplib",
    "subprocess",
    "email",
    "zoneinfo",
    "typing",
}


def _module(
    ctx: Ctx,
    w: Workflow,
    views: dict[str, TaskView],
    functions: list[dict[str, Any]],
    flow_lines: list[str],
    main: Expr,
    flow_fn: str,
    callable_imports: dict[str, set[str]],
) -> list[str]:
    ctx.need("prefect", "flow")
    if w.tasks:
        ctx.need("prefect", "task")
    flow_opts: list[Expr] = []
    name = flow_name(w, flow_fn)
    # Omitted only where Prefect's default name (the function's, "_" as "-")
    # and a reader's id of an unnamed flow (the function's) are both the name.
    if name != flow_fn or "_" in flow_fn:
        flow_opts.append(Kw("name", py_str(name)))
    if w.description:
        flow_opts.append(Kw("description", py_str(w.description)))
    if any("print(" in line for v in views.values() for line in v.body):
        flow_opts.append(Kw("log_prints", "True"))
    if w.timeout_s is not None:
        flow_opts.append(Kw("timeout_seconds", repr(compact_number(float(w.timeout_s)))))
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
    signature: list[Expr] = [f"{ctx.param_args[k]}={py_literal(v)}" for k, v in w.params.items()]
    if any(v.dates for v in views.values()):
        ctx.need("datetime")
        signature.append("logical_date: datetime.datetime | None = None")
    backfill = _backfill_lines(ctx, w, flow_fn)
    typing_names, ctx.annotations = _annotations(views, functions)
    for name in typing_names:
        ctx.need("typing", name)

    tasks: list[str] = []
    for tid in w.task_ids():
        tasks += ["", ""] + _task_lines(ctx, views[tid])
    out = _docstring(w)
    out += [""] + _imports(ctx, callable_imports)
    if _timed(w) and not _plain_trigger(w):
        # The time model the runs follow (wfconv_run_dates), for readers of the module.
        time = {"model": w.schedule.time_model, "interval_s": w.schedule.interval_s}
        out += ["", "WFCONV_TIME = " + py_literal(time)]
    if ctx.run_dates:
        source = run_dates_source(w)
        # a function after two blank lines; the helper's one line beside WFCONV_TIME
        gap = (
            ["", ""] if source.startswith("def ") else [] if out[-1].startswith("WFCONV") else [""]
        )
        out += gap + source.rstrip("\n").split("\n")
    if ctx.decisions:
        out += ["", ""] + dec.helpers_source(ctx.decisions).rstrip("\n").split("\n")
        out += ["", ""] + dec.table_source(ctx.decisions, py_str, py_literal).split("\n")
        out += ["", ""] + dec.DECIDE_SOURCE.rstrip("\n").split("\n")
    for fn in functions:
        out += ["", ""]
        if "source" in fn:
            out += fn["source"].rstrip("\n").split("\n")
        else:
            out.append(f"def {fn['name']}(*args, **kwargs):")
            out += [f"    # {py_comment(line)}".rstrip() for line in fn["comments"]]
            message = Call("NotImplementedError", [py_str(fn["message"])])
            out += statement("raise ", message, depth=1)
    out += tasks + ["", ""]
    out += statement("@", Call("flow", flow_opts)) if flow_opts else ["@flow"]
    mutable = [isinstance(v, (list, dict)) for v in w.params.values()]
    if any(mutable):
        # one parameter a line, so that the noqa sits on the mutable default's
        out.append(f"def {flow_fn}(")
        for i, item in enumerate(signature):
            noqa = "  # noqa: B006 (Prefect copies parameter defaults)"
            out.append(f"    {item},{noqa if i < len(mutable) and mutable[i] else ''}")
        out.append("):")
    else:
        out += statement("def ", Call(flow_fn, signature), ":")
    out += flow_lines or ["    pass"]
    if backfill:
        out += ["", ""] + backfill
    out += ["", "", 'if __name__ == "__main__":']
    out += statement("", main, depth=1)
    return out


def _task_lines(ctx: Ctx, view: TaskView) -> list[str]:
    lines = statement("@", Call("task", list(view.options))) if view.options else ["@task"]
    if view.source is not None:
        return lines + _paste(ctx, view)
    lines += statement("def ", Call(view.fn, list(view.params)), ":")
    body = []
    if view.doc:
        body.append(f"    # {py_comment(view.doc)}".rstrip())
    if view.gate is not None:
        body += _gate_lines(ctx, view.gate)
    body += view.body or ([] if view.gate is not None else ["    pass"])
    return lines + body


def _paste(ctx: Ctx, view: TaskView) -> list[str]:
    """A kept user function as the task: its own text; a gated one gets the
    ``upstream`` argument and the gate after its docstring."""
    text = view.source or ""
    if view.gate is None:
        return text.rstrip("\n").split("\n")
    import libcst as cst

    module = cst.parse_module(text)
    fn = module.body[0]
    assert isinstance(fn, cst.FunctionDef)
    extra = ["upstream"] if "upstream" not in view.params else []
    if (view.gate or {}).get("also"):
        extra.append("also")
    params = fn.params.with_changes(
        kwonly_params=[
            *fn.params.kwonly_params,
            *(cst.Param(cst.Name(p)) for p in extra),
        ],
        star_arg=fn.params.star_arg
        if not isinstance(fn.params.star_arg, cst.MaybeSentinel)
        else (cst.ParamStar() if extra else fn.params.star_arg),
    )
    body = list(fn.body.body)
    doc = 1 if body and _is_docstring(body[0]) else 0
    gate_text = "\n".join(line[4:] for line in _gate_lines(ctx, view.gate)) + "\n"
    gate = cst.parse_module(gate_text).body
    new = fn.with_changes(
        params=params, body=fn.body.with_changes(body=[*body[:doc], *gate, *body[doc:]])
    )
    return module.code_for_node(new).rstrip("\n").split("\n")


def _is_docstring(st: Any) -> bool:
    import libcst as cst

    return (
        isinstance(st, cst.SimpleStatementLine)
        and len(st.body) == 1
        and isinstance(st.body[0], cst.Expr)
        and isinstance(st.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


def _annotations(
    views: dict[str, TaskView], functions: list[dict[str, Any]]
) -> tuple[set[str], bool]:
    texts = [v.source for v in views.values() if v.source] + [
        f["source"] for f in functions if "source" in f
    ]
    return annotation_names(texts)


def _backfill_lines(ctx: Ctx, w: Workflow, flow_fn: str) -> list[str]:
    """``wfconv_backfill(first, last)``: the runs of past schedule ticks, for
    a workflow that catches up (Prefect never creates them)."""
    s = w.schedule
    if not w.catchup or not ctx.dated:
        return []  # runs that read no date are all alike: no backfill to write
    kwargs: list[Expr] = []
    if s.kind == "cron" and s.cron:
        kwargs.append(Kw("cron", py_str(s.cron)))
    elif s.kind == "interval" and s.seconds:
        kwargs.append(Kw("seconds", repr(compact_number(float(s.seconds)))))
        if w.start_date:
            kwargs.append(Kw("start", py_str(w.start_date)))
    else:
        return []
    if (s.timezone or "UTC") != "UTC":
        kwargs.append(Kw("timezone", py_str(s.timezone)))
    helper = ctx.helper("backfill")
    lines = ["def wfconv_backfill(first, last):"]
    lines.append('    """Airflow\'s catch-up: one run per schedule tick from FIRST to LAST."""')
    lines += statement("", Call(helper, [flow_fn, "first", "last", *kwargs]), depth=1)
    return lines


def _imports(ctx: Ctx, callable_imports: dict[str, set[str]]) -> list[str]:
    """Import lines in ruff/isort order (the helper module sorts as third party)."""
    froms: dict[str, set[str]] = {m: set(n) for m, n in callable_imports.items()}
    for module, names in ctx.froms.items():
        froms.setdefault(module, set()).update(names)
    if ctx.helpers:
        froms.setdefault(HELPER_MODULE, set()).update(ctx.helpers)
    stdlib = {m for m in ctx.modules if m in _STDLIB}
    lines = import_block(
        stdlib,
        {m: n for m, n in froms.items() if m.split(".")[0] in _STDLIB},
        {m for m in ctx.modules if m not in _STDLIB},
        {m: n for m, n in froms.items() if m.split(".")[0] not in _STDLIB},
        future=ctx.annotations,
    )
    return lines
