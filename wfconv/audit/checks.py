"""Workflow checks: one small function per finding code, registered in ``CHECKS``.

Each check reads one workflow (IR plus the facts frontends keep in
``Task.extra``/``Workflow.extra``) and yields ``Hit``s; the analyzer turns them
into findings with the code's severity. Checks never look at source text: what
they need and the IR lacks is listed in docs/audit.md.

Definitions used by the trigger-rule check (AU404), on acyclic graphs:

- *may fail*: a task whose action can fail (every kind except ``empty``), or
  whose trigger rule turns an upstream failure into ``upstream_failed``
  (all_success, one_success, none_failed, none_failed_min_one_success,
  all_done_min_one_success) and that has an upstream that may fail.
- *may be skipped*: a direct downstream of a branch, anything downstream of a
  short-circuit, a sensor with ``soft_fail``, a task whose rule propagates
  skips (all_success, one_success, none_failed_min_one_success,
  all_done_min_one_success) below one that may be skipped, and any task with
  upstreams whose own rule can end in ``skipped`` (one_failed, all_failed,
  one_done, none_skipped, all_skipped). Skips raised from inside a callable
  (``AirflowSkipException``, Bash exit code 99) cannot be seen statically; the
  message says so.
- ``all_skipped`` never fires when no direct upstream may be skipped,
  ``one_failed`` when no direct upstream may fail, ``all_failed`` when some
  direct upstream can never fail.
"""

from __future__ import annotations

import ast
import os
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from wfconv.audit import timing
from wfconv.audit.graph import TaskGraph
from wfconv.ir.model import Task, Workflow

CATCHUP_RUNS_THRESHOLD = 100
LONG_POKE_S = 3600
DEFAULT_SENSOR_TIMEOUT_S = 7 * 24 * 3600
TEMPLATE_EXT = (".sh", ".bash")  # BashOperator.template_ext


@dataclass
class Hit:
    message: str
    task: str | None = None
    line: int | None = None
    # The message without what changes from day to day (run counts, today's
    # date): what --baseline compares when set.
    key: str | None = None


@dataclass
class Context:
    workflow: Workflow
    graph: TaskGraph
    path: str
    engine: str | None
    now: datetime
    frontend_codes: set[str] = field(default_factory=set)

    def task_line(self, task_id: str) -> int | None:
        for t in self.workflow.tasks:
            if t.id == task_id and t.source is not None:
                return t.source.line
        return None

    def workflow_line(self) -> int | None:
        return self.workflow.source.line if self.workflow.source else None

    @property
    def airflow(self) -> dict[str, Any]:
        v = self.workflow.extra.get("airflow")
        return v if isinstance(v, dict) else {}


Check = Callable[[Context], Iterator[Hit]]
CHECKS: dict[str, Check] = {}


def check(code: str):
    def register(fn: Check) -> Check:
        CHECKS[code] = fn
        return fn

    return register


def _line(t: Task) -> int | None:
    return t.source.line if t.source else None


def _task_airflow(t: Task) -> dict[str, Any]:
    v = t.extra.get("airflow")
    return v if isinstance(v, dict) else {}


def _fmt_s(seconds: float) -> str:
    if seconds >= 86400 and seconds % 86400 == 0:
        return f"{int(seconds // 86400)} d"
    if seconds >= 3600:
        return f"{seconds / 3600:g} h"
    return f"{seconds:g} s"


# -- structure ---------------------------------------------------------------


@check("AU004")
def isolated_tasks(ctx: Context) -> Iterator[Hit]:
    # Prefect runs independent calls in code order: no edge is not a smell there.
    if ctx.engine == "prefect" or len(ctx.graph.ids) < 2:
        return
    for t in ctx.workflow.tasks:
        if not ctx.graph.succ.get(t.id) and not ctx.graph.pred.get(t.id):
            yield Hit(f"task {t.id!r} has no upstream and no downstream task", t.id, _line(t))


# -- scheduling --------------------------------------------------------------


def _scheduled(w: Workflow) -> bool:
    return w.schedule.kind in ("cron", "interval")


def _dynamic_start(ctx: Context) -> bool:
    return "AF103" in ctx.frontend_codes


@check("AU101")
def missing_start_date(ctx: Context) -> Iterator[Hit]:
    w = ctx.workflow
    if ctx.engine == "airflow" and _scheduled(w) and not w.start_date and not _dynamic_start(ctx):
        yield Hit(
            f"workflow {w.id!r} is scheduled but has no start_date (in the DAG or its default_args)",
            line=ctx.workflow_line(),
        )


@check("AU103")
def catchup_far_past(ctx: Context) -> Iterator[Hit]:
    w = ctx.workflow
    # An unset catchup is on in Airflow 2 (catchup_by_default) and off in 3: worth saying.
    implicit = w.catchup is None and ctx.engine == "airflow"
    if not (w.catchup is True or implicit) or not _scheduled(w) or _dynamic_start(ctx):
        return
    start = timing.parse_date(w.start_date)
    if start is None:
        return
    end = timing.parse_date(w.end_date)
    stop = min(ctx.now, end) if end else ctx.now
    count = timing.count_ticks(w.schedule, start, stop)
    if count is None or count.runs <= CATCHUP_RUNS_THRESHOLD:
        return
    what = (
        w.schedule.cron if w.schedule.kind == "cron" else f"every {_fmt_s(w.schedule.seconds or 0)}"
    )
    about = "" if count.exact else "about "
    if implicit:
        setting = "catchup is not set (Airflow 2 defaults it to True)"
    elif ctx.engine == "oozie":
        setting = "the coordinator starts in the past (Oozie materializes every missed action)"
    else:
        setting = "catchup=True"
    yield Hit(
        f"{setting}: from start_date {start.date().isoformat()} the first scheduler pass creates {about}"
        f"{count.runs:,} runs ({what!s} until {stop.date().isoformat()})",
        line=ctx.workflow_line(),
        key=f"{setting}: from start_date {start.date().isoformat()} ({what!s})",
    )


@check("AU104")
def never_fires(ctx: Context) -> Iterator[Hit]:
    w = ctx.workflow
    s = w.schedule
    if s.kind == "cron" and s.cron:
        chk = timing.check_cron(s.cron)
        if not chk.ok:
            if chk.impossible:
                yield Hit(
                    f"cron {s.cron!r} never fires ({chk.error}: no such date)",
                    line=ctx.workflow_line(),
                )
            return
    elif s.kind == "interval":
        if s.seconds is not None and s.seconds <= 0:
            yield Hit(f"interval of {s.seconds:g} s never fires", line=ctx.workflow_line())
        return
    else:
        return
    start, end = timing.parse_date(w.start_date), timing.parse_date(w.end_date)
    if start and end and start <= end:
        tick = timing.first_tick(s, start - timedelta(microseconds=1))
        if tick is not None and tick > end:
            yield Hit(
                f"cron {s.cron!r} has no tick between start_date {w.start_date} and end_date {w.end_date}",
                line=ctx.workflow_line(),
            )


@check("AU105")
def end_before_start(ctx: Context) -> Iterator[Hit]:
    w = ctx.workflow
    start, end = timing.parse_date(w.start_date), timing.parse_date(w.end_date)
    if start and end and end < start:
        yield Hit(
            f"end_date {w.end_date} is before start_date {w.start_date}", line=ctx.workflow_line()
        )


@check("AU106")
def invalid_cron(ctx: Context) -> Iterator[Hit]:
    s = ctx.workflow.schedule
    if s.kind == "cron" and s.cron:
        chk = timing.check_cron(s.cron)
        if not chk.ok and not chk.impossible:
            yield Hit(f"cron {s.cron!r} is not valid: {chk.error}", line=ctx.workflow_line())


# -- Airflow gotchas ---------------------------------------------------------


def _bash_tasks(ctx: Context) -> Iterator[tuple[Task, str]]:
    if ctx.engine != "airflow":
        return
    for t in ctx.workflow.tasks:
        if t.action.kind != "shell":
            continue
        op = _task_airflow(t).get("operator")
        if op not in (None, "BashOperator"):
            continue
        cmd = t.action.get("command")
        if isinstance(cmd, str) and cmd.endswith(TEMPLATE_EXT):
            yield t, cmd


def _search_dirs(ctx: Context) -> list[str]:
    # The DAG file's folder: the workflow's own source when it exists (an IR
    # JSON document names the DAG file it was read from), else the audited file.
    src = ctx.workflow.source.path if ctx.workflow.source else None
    dag_file = src if src and os.path.isfile(src) else ctx.path
    base = os.path.dirname(os.path.abspath(dag_file))
    dirs = [base]
    sp = ctx.airflow.get("dag_kwargs", {}).get("template_searchpath") if ctx.airflow else None
    if isinstance(sp, str):
        sp = [sp]
    if isinstance(sp, list):
        dirs += [os.path.join(base, d) for d in sp if isinstance(d, str)]
    return dirs


def _template_found(cmd: str, dirs: list[str]) -> bool:
    return any(os.path.isfile(os.path.join(d, cmd.lstrip("/"))) for d in dirs)


def _looks_like_path(cmd: str) -> bool:
    return not any(c.isspace() for c in cmd) and not cmd.startswith("/")


@check("AU301")
def bash_template_gotcha(ctx: Context) -> Iterator[Hit]:
    dirs = None
    for t, cmd in _bash_tasks(ctx):
        dirs = dirs or _search_dirs(ctx)
        if _looks_like_path(cmd) or _template_found(cmd, dirs):
            continue
        yield Hit(
            f"task {t.id!r}: bash_command {cmd!r} ends in {os.path.splitext(cmd)[1]!r}, so Airflow loads it "
            "as a Jinja template file and fails with TemplateNotFound; add a trailing space",
            t.id,
            _line(t),
        )


SQL_TEMPLATE_EXT = (".sql", ".hql")  # template_ext of the SQL/Hive operators


def _sql_template_tasks(ctx: Context) -> Iterator[tuple[Task, str]]:
    """SQL tasks whose ``sql`` is a template file name (``queries/load.sql``)."""
    if ctx.engine != "airflow":
        return
    for t in ctx.workflow.tasks:
        sql = t.action.get("sql") if t.action.kind == "sql" else None
        if isinstance(sql, str) and sql.endswith(SQL_TEMPLATE_EXT) and _looks_like_path(sql):
            yield t, sql


@check("AU302")
def bash_template_missing(ctx: Context) -> Iterator[Hit]:
    dirs = None
    candidates = [*_bash_tasks(ctx), *_sql_template_tasks(ctx)]
    for t, cmd in candidates:
        dirs = dirs or _search_dirs(ctx)
        if not _looks_like_path(cmd) or _template_found(cmd, dirs):
            continue
        declared = (
            ctx.airflow.get("dag_kwargs", {}).get("template_searchpath") if ctx.airflow else None
        )
        where = "the DAG folder" + (f" or template_searchpath {declared!r}" if declared else "")
        yield Hit(
            f"task {t.id!r}: template file {cmd!r} is not in {where}: TemplateNotFound at run time "
            "unless the DAG declares its folder in template_searchpath",
            t.id,
            _line(t),
        )


@check("AU303")
def bash_env_replaces_environment(ctx: Context) -> Iterator[Hit]:
    if ctx.engine != "airflow":
        return
    for t in ctx.workflow.tasks:
        f = t.action.fields
        if t.action.kind != "shell" or not f.get("env_replace"):
            continue
        if _task_airflow(t).get("operator") not in (None, "BashOperator", "@task.bash"):
            continue
        yield Hit(
            f"task {t.id!r}: env= without append_env=True replaces the worker's whole environment "
            "(no PATH, HOME, credentials); add append_env=True unless that is meant",
            t.id,
            _line(t),
        )


# -- reliability -------------------------------------------------------------


def _sensors(ctx: Context) -> Iterator[Task]:
    for t in ctx.workflow.tasks:
        if t.action.kind == "sensor":
            yield t


def _sensor_timeout(t: Task) -> float | None:
    v = t.action.get("timeout_s")
    return float(v) if isinstance(v, (int, float)) else None


@check("AU401")
def sensor_without_timeout(ctx: Context) -> Iterator[Hit]:
    # Frontends write Airflow's default (7 days) when the source says nothing, so
    # "no timeout" and "timeout of 7 days" are one finding: the wait is a week.
    for t in _sensors(ctx):
        timeout = _sensor_timeout(t)
        if timeout is None or timeout >= DEFAULT_SENSOR_TIMEOUT_S:
            name = t.action.get("sensor") or "sensor"
            yield Hit(
                f"{name} {t.id!r} has no timeout shorter than the default: it waits 7 days or more before failing",
                t.id,
                _line(t),
            )


@check("AU402")
def poke_sensor_long_timeout(ctx: Context) -> Iterator[Hit]:
    for t in _sensors(ctx):
        mode = t.action.get("mode") or "poke"
        args = t.action.get("args") if isinstance(t.action.get("args"), dict) else {}
        if mode != "poke" or t.action.get("deferrable") is True or args.get("deferrable") is True:
            continue  # a deferred sensor waits in the triggerer, not in a worker slot
        timeout = _sensor_timeout(t)
        effective = DEFAULT_SENSOR_TIMEOUT_S if timeout is None else timeout
        if effective > LONG_POKE_S:
            yield Hit(
                f"sensor {t.id!r} pokes for up to {_fmt_s(effective)} holding a worker slot; "
                "use mode='reschedule'",
                t.id,
                _line(t),
            )


_NO_RETRY_NEEDED = {"empty", "fail", "external"}


@check("AU403")
def missing_retries(ctx: Context) -> Iterator[Hit]:
    # Airflow sets retries for a whole DAG (default_args): a task without them is
    # an override or an oversight. Prefect, Luigi and Oozie set retries per task
    # on purpose (only the flaky ones), so a mix is normal there.
    if ctx.engine != "airflow":
        return
    tasks = ctx.workflow.tasks
    with_retries = [t for t in tasks if (t.retries or 0) > 0]
    if not with_retries:
        return
    for t in tasks:
        if (t.retries or 0) == 0 and t.action.kind not in _NO_RETRY_NEEDED:
            yield Hit(
                f"task {t.id!r} has no retries while {len(with_retries)} other task(s) of "
                f"{ctx.workflow.id!r} retry",
                t.id,
                _line(t),
                key=f"task {t.id!r} has no retries",
            )


_PROPAGATES_FAILURE = {
    "all_success",
    "one_success",
    "none_failed",
    "none_failed_min_one_success",
    "all_done_min_one_success",
    "all_done_setup_success",  # when its upstream setups failed
}
_PROPAGATES_SKIP = {
    "all_success",
    "one_success",
    "none_failed_min_one_success",
    "all_done_min_one_success",
    "all_done_setup_success",  # when its upstream setups were skipped
}
_ENDS_SKIPPED = {"one_failed", "all_failed", "one_done", "none_skipped", "all_skipped"}


def _may_fail_and_skip(ctx: Context) -> tuple[dict[str, bool], dict[str, bool]]:
    g = ctx.graph
    tasks = {t.id: t for t in ctx.workflow.tasks}
    fail: dict[str, bool] = {}
    skip: dict[str, bool] = {}
    skip_sources: set[str] = set()
    for t in ctx.workflow.tasks:
        if t.action.kind == "branch":
            if t.action.get("short_circuit"):
                skip_sources |= _descendants(g, t.id)
            else:
                skip_sources.update(g.succ.get(t.id, []))
        if t.action.kind == "sensor" and t.action.get("soft_fail"):
            skip_sources.add(t.id)
    for n in g.topo or []:
        t = tasks[n]
        preds = g.pred[n]
        rule = t.trigger_rule
        fail[n] = t.action.kind != "empty" or (
            rule in _PROPAGATES_FAILURE and any(fail[p] for p in preds)
        )
        skip[n] = (
            n in skip_sources
            or (rule in _PROPAGATES_SKIP and any(skip[p] for p in preds))
            or (rule in _ENDS_SKIPPED and bool(preds))
        )
    return fail, skip


def _descendants(g: TaskGraph, start: str) -> set[str]:
    out: set[str] = set()
    todo = list(g.succ.get(start, []))
    while todo:
        n = todo.pop()
        if n not in out:
            out.add(n)
            todo.extend(g.succ.get(n, []))
    return out


@check("AU404")
def trigger_rule_never_fires(ctx: Context) -> Iterator[Hit]:
    g = ctx.graph
    if g.topo is None:
        return
    rules = {"all_skipped", "one_failed", "all_failed"}
    if not any(t.trigger_rule in rules for t in ctx.workflow.tasks):
        return
    fail, skip = _may_fail_and_skip(ctx)
    seen: set[str] = set()
    for t in ctx.workflow.tasks:
        preds = g.pred.get(t.id, [])
        if not preds or t.id in seen:
            continue
        seen.add(t.id)
        rule = t.trigger_rule
        ups = ", ".join(repr(p) for p in preds[:5]) + (", ..." if len(preds) > 5 else "")
        if rule == "all_skipped" and not any(skip[p] for p in preds):
            yield Hit(
                f"task {t.id!r} has trigger rule all_skipped but no upstream ({ups}) can be skipped "
                "(no branch, short-circuit or soft_fail sensor above it; only an AirflowSkipException "
                "or exit code 99 inside a task could)",
                t.id,
                _line(t),
            )
        elif rule == "one_failed" and not any(fail[p] for p in preds):
            yield Hit(
                f"task {t.id!r} has trigger rule one_failed but no upstream ({ups}) can fail: it is skipped in every run",
                t.id,
                _line(t),
            )
        elif rule == "all_failed" and not all(fail[p] for p in preds):
            never = [p for p in preds if not fail[p]]
            yield Hit(
                f"task {t.id!r} has trigger rule all_failed but upstream {never[0]!r} can never fail: "
                "it is skipped in every run",
                t.id,
                _line(t),
            )


def _branch_targets(t: Task) -> list[str]:
    """Task ids a branch can follow: Oozie cases/default, ``targets``, the
    ``follow_task_ids_if_true/false`` of Airflow's non-Python branch operators,
    and the literal ids a branch callable returns (read with ``ast`` from the
    ``source_code`` the frontend kept in the action; run-time values are not
    guessed)."""
    a = t.action
    out: list[str] = []
    for case in a.get("cases") or []:
        if isinstance(case, dict) and isinstance(case.get("to"), str):
            out.append(case["to"])
    for key in ("default", "targets", "follow_task_ids_if_true", "follow_task_ids_if_false"):
        out += _ids(a.get(key))
    code = a.get("source_code")
    if isinstance(code, str) and not a.get("short_circuit"):
        out += _returned_ids(code)
    return list(dict.fromkeys(out))


def _ids(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [x for x in value if isinstance(x, str)]
    return []


def _returned_ids(code: str) -> list[str]:
    try:
        tree = ast.parse(textwrap.dedent(code))
    except (SyntaxError, ValueError, RecursionError):
        return []
    fn = next(
        (n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))), None
    )
    if fn is None:
        return []
    out: list[str] = []
    todo: list[ast.AST] = list(fn.body)
    while todo:
        node = todo.pop(0)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue  # returns of nested functions are not the branch's
        if isinstance(node, ast.Return) and node.value is not None:
            v = node.value
            items = v.elts if isinstance(v, (ast.List, ast.Tuple, ast.Set)) else [v]
            out += [
                e.value for e in items if isinstance(e, ast.Constant) and isinstance(e.value, str)
            ]
        todo.extend(ast.iter_child_nodes(node))
    return out


def _group_members(ctx: Context, group: str) -> set[str]:
    return {
        t.id
        for t in ctx.workflow.tasks
        if t.group == group or (t.group or "").startswith(group + ".")
    }


@check("AU405")
def branch_target_missing(ctx: Context) -> Iterator[Hit]:
    ids = set(ctx.graph.ids)
    groups = {g.id for g in ctx.workflow.groups}
    for t in ctx.workflow.tasks:
        if t.action.kind != "branch":
            continue
        for target in _branch_targets(t):
            if target not in ids and target not in groups:
                yield Hit(
                    f"branch {t.id!r} can follow {target!r}, which is not a task of the workflow",
                    t.id,
                    _line(t),
                )


@check("AU409")
def branch_target_not_downstream(ctx: Context) -> Iterator[Hit]:
    ids = set(ctx.graph.ids)
    groups = {g.id for g in ctx.workflow.groups}
    for t in ctx.workflow.tasks:
        if t.action.kind != "branch" or t.action.get("short_circuit"):
            continue
        direct = set(ctx.graph.succ.get(t.id, []))
        for target in _branch_targets(t):
            if target in ids and target not in direct:
                yield Hit(
                    f"branch {t.id!r} can follow {target!r}, which is not one of its direct downstream tasks",
                    t.id,
                    _line(t),
                )
            elif (
                target in groups
                and target not in ids
                and not (_group_members(ctx, target) & direct)
            ):
                yield Hit(
                    f"branch {t.id!r} can follow group {target!r}, which is not directly downstream",
                    t.id,
                    _line(t),
                )


@check("AU406")
def depends_on_past_with_catchup(ctx: Context) -> Iterator[Hit]:
    w = ctx.workflow
    implicit = w.catchup is None and ctx.engine == "airflow"
    if not (w.catchup is True or implicit) or not _scheduled(w):
        return
    tasks = [t for t in w.tasks if t.depends_on_past]
    if tasks:
        names = ", ".join(repr(t.id) for t in tasks[:5]) + (", ..." if len(tasks) > 5 else "")
        setting = "catchup (not set: on by default in Airflow 2)" if implicit else "catchup=True"
        yield Hit(
            f"{setting} and depends_on_past on {len(tasks)} task(s) ({names}): catch-up runs go one by one "
            "and a single failure blocks every later run",
            line=_line(tasks[0]),
        )


@check("AU408")
def rule_without_upstream(ctx: Context) -> Iterator[Hit]:
    for t in ctx.workflow.tasks:
        if t.trigger_rule in ("one_failed", "all_failed", "all_skipped") and not ctx.graph.pred.get(
            t.id
        ):
            yield Hit(
                f"task {t.id!r} has trigger rule {t.trigger_rule} but no upstream task: it runs at the start of every run",
                t.id,
                _line(t),
            )
