"""What a run produces: per-task results, attempts, the trace (stable API).

Every time a result object shows is a timezone-aware ``datetime`` in UTC
(``attempt.start``, ``result.logical_date``, ``event.time``...) and an
ISO-8601 string in JSON. The runtime itself counts in POSIX seconds (exact
for a virtual clock, and cheap in the scheduler loop): each time is stored
once as a float in a ``<name>_ts`` field and turned into a ``datetime`` only
when read, so a run that nobody looks at pays no conversion.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

TERMINAL = frozenset({"success", "failed", "skipped", "upstream_failed"})
STATES = (
    "none",
    "scheduled",
    "running",
    "success",
    "failed",
    "up_for_retry",
    "upstream_failed",
    "skipped",
)


def utc(t: float | None) -> datetime | None:
    """POSIX seconds as an aware UTC datetime (None stays None)."""
    return None if t is None else datetime.fromtimestamp(t, tz=UTC)


def iso(t: float | None) -> str | None:
    """POSIX seconds as ISO-8601 text, the form of every time in JSON."""
    return None if t is None else datetime.fromtimestamp(t, tz=UTC).isoformat()


def _iso_memo() -> Callable[[float | None], str | None]:
    """``iso`` remembering its answers: the tasks of a simulated run share a
    few distinct times, and the conversion was half of a run's JSON."""
    seen: dict[float | None, str | None] = {}

    def get(t: float | None) -> str | None:
        text = seen.get(t)
        if text is None:
            text = seen[t] = iso(t)
        return text

    return get


class _UTCView:
    """``obj.<name>``: the aware UTC datetime (or None) of ``obj.<name>_ts``."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.field = name + "_ts"

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        return self if obj is None else utc(getattr(obj, self.field))


@dataclass(slots=True)
class Attempt:
    """One try of a task: 1-based number, final state of the try, times."""

    number: int
    state: str  # success | failed | skipped | interrupted | running
    start_ts: float
    end_ts: float | None
    reason: str | None = None

    # one view per name: each reads its own *_ts field
    start, end = _UTCView(), _UTCView()

    def to_dict(self, iso: Callable[[float | None], str | None] = iso) -> dict[str, Any]:
        out = {
            "attempt": self.number,
            "state": self.state,
            "start": iso(self.start_ts),
            "end": iso(self.end_ts),
        }
        if self.reason:
            out["reason"] = self.reason
        return out


@dataclass(slots=True)
class TaskResult:
    task_id: str
    state: str = "none"
    attempts: list[Attempt] = field(default_factory=list)
    # For tasks that never ran (skipped / upstream_failed): when that was decided.
    decided_ts: float | None = None
    # The shell command rendered for this run (``render=True`` / ``--render``).
    command: str | None = None

    @property
    def start_ts(self) -> float | None:
        return self.attempts[-1].start_ts if self.attempts else self.decided_ts

    @property
    def end_ts(self) -> float | None:
        return self.attempts[-1].end_ts if self.attempts else self.decided_ts

    decided, start, end = _UTCView(), _UTCView(), _UTCView()

    def to_dict(
        self, detail: bool = False, iso: Callable[[float | None], str | None] = iso
    ) -> dict[str, Any]:
        out: dict[str, Any] = {
            "state": self.state,
            "attempts": len(self.attempts),
            "start": iso(self.start_ts),
            "end": iso(self.end_ts),
        }
        if self.command is not None:
            out["command"] = self.command
        if detail:
            out["tries"] = [a.to_dict(iso) for a in self.attempts]
        return out


@dataclass(slots=True)
class TraceEvent:
    """One state change: the unit ``verify`` compares."""

    time_ts: float
    task: str
    attempt: int
    state: str

    time = _UTCView()

    def to_dict(self, run_id: str, workflow: str) -> dict[str, Any]:
        return {
            "workflow": workflow,
            "run_id": run_id,
            "task": self.task,
            "attempt": self.attempt,
            "state": self.state,
            "time": iso(self.time_ts),
        }


@dataclass
class RunResult:
    """The outcome of one run.

    ``state`` is Airflow's leaf rule (the reference, R2): failed if a leaf is
    failed or upstream_failed, success if every leaf is success or skipped,
    ``running`` if a task can never start (depends_on_past not met).
    ``engine_state`` is the source engine's own outcome where its rule is
    different (Oozie: succeeded | killed | failed), else None.
    """

    workflow: str
    run_id: str
    logical_date_ts: float
    data_interval_start_ts: float
    data_interval_end_ts: float
    state: str
    tasks: dict[str, TaskResult]
    start_ts: float
    end_ts: float | None
    engine_state: str | None = None
    notes: list[dict[str, str]] = field(default_factory=list)
    trace: list[TraceEvent] = field(default_factory=list)
    store_id: int | None = None

    def _repr_html_(self) -> str:
        from wfconv import notebook

        return notebook.run_html(self)

    def _repr_markdown_(self) -> str:
        from wfconv import notebook

        return notebook.run_markdown(self)

    logical_date, data_interval_start, data_interval_end = _UTCView(), _UTCView(), _UTCView()
    start, end = _UTCView(), _UTCView()

    @property
    def ok(self) -> bool:
        return self.state == "success"

    def to_dict(self, detail: bool = False) -> dict[str, Any]:
        when = _iso_memo()
        out: dict[str, Any] = {
            "workflow": self.workflow,
            "run_id": self.run_id,
            "logical_date": iso(self.logical_date_ts),
            "data_interval_start": iso(self.data_interval_start_ts),
            "data_interval_end": iso(self.data_interval_end_ts),
            "state": self.state,
            "start": iso(self.start_ts),
            "end": iso(self.end_ts),
            "tasks": {tid: tr.to_dict(detail, when) for tid, tr in self.tasks.items()},
        }
        if self.engine_state is not None:
            out["engine_state"] = self.engine_state
        if self.notes:
            out["notes"] = list(self.notes)
        if self.store_id is not None:
            out["store_id"] = self.store_id
        return out

    def summary(self) -> dict[str, tuple[str, int]]:
        """{task: (final state, number of attempts)}: what verify compares
        exactly (R8: attempt counts exactly, delays only as bounds)."""
        return {tid: (tr.state, len(tr.attempts)) for tid, tr in self.tasks.items()}

    def trace_dicts(self) -> list[dict[str, Any]]:
        return [e.to_dict(self.run_id, self.workflow) for e in self.trace]
