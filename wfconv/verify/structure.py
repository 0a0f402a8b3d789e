"""Structural comparison of a source workflow with its round trip.

Compared under the id mapping: tasks, edges, action kinds, retries and retry
delays, timeouts, trigger rules, the schedule (as the set of run times over a
year, not as text) and params. Each difference is either explained by a ledger
entry of the conversion (the backend said it would approximate or drop that
construct) or it is a defect of wfconv.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from wfconv.errors import InputError
from wfconv.ir.model import Diagnostic, Task, Workflow
from wfconv.runtime.schedule import effective_catchup, run_after_bounds

# Years of schedule compared; a year holds every cron pattern's period.
_SCHEDULE_WINDOW_DAYS = 366
_REFERENCE_START = "2024-01-01T00:00:00+00:00"
_MAX_TICKS = 20000  # a minutely schedule is compared over its first 20k ticks


@dataclass
class Difference:
    """One structural difference. ``task`` is the source task id (None for a
    workflow-level aspect); ``explained_by`` the ledger codes that account for it."""

    aspect: str
    task: str | None
    source: Any
    target: Any
    explained_by: list[str]

    @property
    def explained(self) -> bool:
        return bool(self.explained_by)

    def describe(self) -> str:
        where = f"task {self.task!r}" if self.task else "workflow"
        why = (
            f" (explained by {', '.join(self.explained_by)})"
            if self.explained_by
            else " (NOT in the ledger: a defect)"
        )
        return f"{where}: {self.aspect} {_show(self.source)} became {_show(self.target)}{why}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "aspect": self.aspect,
            "task": self.task,
            "source": self.source,
            "target": self.target,
            "explained_by": self.explained_by,
        }


def _show(v: Any) -> str:
    if isinstance(v, (list, tuple)) and len(v) > 6:
        return f"[{', '.join(map(repr, v[:5]))}, ... {len(v)} items]"
    return repr(v)


def _ledger_task(d: Diagnostic) -> str | None:
    """The task a ledger entry is about (backends' ``loss(task=...)`` sets it)."""
    return d.task


def _explainers(ledger: list[Diagnostic], task: str | None) -> list[str]:
    """Ledger codes (warnings/errors: real losses) about ``task``; for a
    workflow-level aspect, entries that name no task."""
    out = []
    for d in ledger:
        if d.severity not in ("warning", "error"):
            continue
        if _ledger_task(d) == task:
            out.append(d.code)
    return sorted(set(out))


# ---------------------------------------------------------------------------
# per-aspect normalisation


def retry_bounds(t: Task) -> list[tuple[float, float]] | None:
    """Per retry (1..retries): the [low, high] delay before it, in seconds.
    Exponential backoff is a range (Airflow hashes into [d*2^(n-1), d*2^n));
    None when the source leaves the delay to the engine's default."""
    d = t.retry_delay_s
    if d is None or t.retries == 0:
        return None if d is None else []
    out = []
    cap = t.max_retry_delay_s if t.max_retry_delay_s is not None else 86400.0
    for n in range(1, t.retries + 1):
        if isinstance(d, list):
            v = float(d[min(n - 1, len(d) - 1)]) if d else 0.0
            out.append((v, v))
        elif t.retry_backoff == "exponential":
            lo, hi = float(d) * 2 ** (n - 1), float(d) * 2**n
            out.append((min(lo, cap), min(hi, cap)))
        else:
            out.append((float(d), float(d)))
    return out


def _bounds_compatible(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None or a == [] or b == []
    if len(a) != len(b):
        return False
    for (alo, ahi), (blo, bhi) in zip(a, b, strict=True):
        # the target's range must lie within the source's (1 s tolerance)
        if blo < alo - 1 or bhi > ahi + 1:
            return False
    return True


def schedule_fingerprint(w: Workflow, start_text: str | None = None) -> Any:
    """The schedule as something comparable: the run times (UTC) over a year
    from ``start_text`` (default: the workflow's start, else a fixed
    reference), or the kind for unscheduled workflows."""
    from wfconv.runtime.schedule import parse_datetime, ticks_for

    s = w.schedule
    if s.kind in ("manual", "once"):
        return s.kind
    if s.kind in ("datasets", "assets"):
        return ("datasets", tuple(sorted(s.datasets)))
    ticks = ticks_for(s)
    if ticks is None:
        return s.kind
    start = parse_datetime(start_text or w.start_date or _REFERENCE_START, s.timezone or "UTC")
    end = start + timedelta(days=_SCHEDULE_WINDOW_DAYS)
    out = []
    t = ticks.align_next(start)
    while t <= end and len(out) < _MAX_TICKS:
        out.append(int(t.astimezone(UTC).timestamp()))
        t = ticks.next(t)
    if s.datasets:
        # Also runs when these datasets are updated.
        return (tuple(out), ("datasets", tuple(sorted(s.datasets))))
    return tuple(out)


def _schedule_text(w: Workflow) -> str:
    s = w.schedule
    also = f" or on updates of {', '.join(s.datasets)}" if s.datasets else ""
    if s.kind == "cron":
        return f"cron {s.cron!r} ({s.timezone}){also}"
    if s.kind == "interval":
        return f"every {s.seconds:g} s{also}"
    return s.kind


def _run_span(w: Workflow) -> tuple[float | None, float | None]:
    """When the first and last scheduled run start, under the workflow's own
    time model (dates that start the same runs are the same dates); the
    dates' instants when there is no time schedule to lay them on."""
    try:
        bounds = run_after_bounds(w)
    except InputError:
        bounds = None
    if bounds is None:
        return _instant(w.start_date), _instant(w.end_date)
    return bounds[0].timestamp(), bounds[1].timestamp() if bounds[1] is not None else None


def _instant(text: str | None) -> float | None:
    if not text:
        return None
    try:
        d = datetime.fromisoformat(text)
    except ValueError:
        return None
    if d.tzinfo is None:
        d = d.replace(tzinfo=UTC)
    return d.timestamp()


def _kind(t: Task) -> str:
    """The action kind as the task acts: a python task whose own function
    takes nothing and does nothing (``pass``, a docstring, ``return None``)
    is an empty task, which is how a reader of the converted code, where the
    function is the task, sees it."""
    import ast

    f = t.action.fields
    code = f.get("source_code")
    if (
        t.action.kind != "python"
        or not isinstance(code, str)
        or f.get("op_args")
        or f.get("op_kwargs")
    ):
        return t.action.kind
    try:
        tree = ast.parse(textwrap.dedent(code))
    except SyntaxError:
        return t.action.kind
    fn = tree.body[0] if len(tree.body) == 1 else None
    if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return t.action.kind
    a = fn.args
    if a.posonlyargs or a.args or a.kwonlyargs or a.vararg or a.kwarg:
        return t.action.kind
    for st in fn.body:
        none = isinstance(st, ast.Return) and (
            st.value is None or (isinstance(st.value, ast.Constant) and st.value.value is None)
        )
        doc = isinstance(st, ast.Expr) and isinstance(st.value, ast.Constant)
        if not (isinstance(st, ast.Pass) or none or doc):
            return t.action.kind
    return "empty"


def _comparable(v: Any) -> Any:
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


# ---------------------------------------------------------------------------


def compare_structure(
    src: Workflow, back: Workflow, id_map: dict[str, str], ledger: list[Diagnostic], extra_tasks=()
) -> list[Difference]:
    diffs: list[Difference] = []

    def add(aspect, task, a, b):
        diffs.append(Difference(aspect, task, a, b, _explainers(ledger, task)))

    back_by_id = {t.id: t for t in back.tasks}
    for t in src.tasks:
        if t.id not in id_map:
            add("task", t.id, "present", "missing")
            continue
        b = back_by_id[id_map[t.id]]
        # The same kind, or one side's do-nothing function read as empty.
        if t.action.kind != b.action.kind and _kind(t) != _kind(b):
            add("action kind", t.id, t.action.kind, b.action.kind)
        if t.retries != b.retries:
            add("retries", t.id, t.retries, b.retries)
        elif not _bounds_compatible(retry_bounds(t), retry_bounds(b)):
            add("retry delays (s)", t.id, retry_bounds(t), retry_bounds(b))
        if _comparable(t.timeout_s) != _comparable(b.timeout_s):
            add("timeout (s)", t.id, t.timeout_s, b.timeout_s)
        if t.trigger_rule != b.trigger_rule:
            add("trigger rule", t.id, t.trigger_rule, b.trigger_rule)
    for tid in extra_tasks:
        diffs.append(
            Difference("task", None, "absent", f"extra task {tid!r}", _explainers(ledger, None))
        )

    inv = {v: k for k, v in id_map.items()}
    src_edges = {(e.src, e.dst) for e in src.edges if e.src in id_map and e.dst in id_map}
    back_edges = {(inv[e.src], inv[e.dst]) for e in back.edges if e.src in inv and e.dst in inv}
    for a, b in sorted(src_edges - back_edges):
        diffs.append(
            Difference(
                "edge",
                b,
                f"{a} -> {b}",
                "missing",
                _explainers(ledger, b) or _explainers(ledger, a),
            )
        )
    for a, b in sorted(back_edges - src_edges):
        diffs.append(
            Difference(
                "edge",
                b,
                "absent",
                f"{a} -> {b}",
                _explainers(ledger, b) or _explainers(ledger, a) or _explainers(ledger, None),
            )
        )

    # Both schedules are laid over the same year (from the source's start), so a
    # start date lost in conversion shows as its own difference, not as this one.
    if schedule_fingerprint(src) != schedule_fingerprint(back, src.start_date):
        add("schedule", None, _schedule_text(src), _schedule_text(back))
    first, last = _run_span(src), _run_span(back)
    if first[0] != last[0]:
        add("start date", None, src.start_date, back.start_date)
    if first[1] != last[1]:
        add("end date", None, src.end_date, back.end_date)
    # Unset catchup means the default of the engine whose time model the
    # schedule follows (on in Airflow 2, off in 3): compared as it acts.
    timed = src.schedule.kind in ("cron", "interval")  # catchup means nothing otherwise
    if timed and effective_catchup(src) != effective_catchup(back):
        add("catchup", None, src.catchup, back.catchup)
    if {k: _comparable(v) for k, v in src.params.items()} != {
        k: _comparable(v) for k, v in back.params.items()
    }:
        add("params", None, src.params, back.params)
    return diffs
