"""Behavioural comparison: run the source IR and the round-tripped IR in the
reference runtime under the same scenarios and compare, task by task, the final
state and the number of attempts.

Scenario sets
- ``basic``: no failure; each task failing on every attempt; each task with
  retries failing once; every choice of every branch. O(N) runs for N tasks.
- ``all``: ``basic`` plus every pair of permanent failures and every sensor
  timing out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from wfconv.errors import InputError, UsageError
from wfconv.ir.model import Workflow
from wfconv.runtime import ALL, NEVER, Scenario, run
from wfconv.runtime.results import RunResult

SCENARIO_SETS = ("basic", "all")
_CANNOT_FAIL = ("fail", "empty")
_DEFAULT_DATE = "2024-01-01T00:00:00+00:00"


@dataclass
class NamedScenario:
    name: str
    scenario: Scenario


@dataclass
class ScenarioVerdict:
    name: str
    equivalent: bool
    # first differing task (source id) and both sides' "state/attempts"
    task: str | None = None
    source: str | None = None
    target: str | None = None
    differences: int = 0
    note: str | None = None
    source_run: str | None = None
    target_run: str | None = None
    source_label: str = "in the source"
    target_label: str = "after conversion"

    def describe(self) -> str:
        if self.note and self.task is None:
            return f"{self.name}: {'equivalent' if self.equivalent else 'DIFFERS'} ({self.note})"
        if self.equivalent:
            return f"{self.name}: equivalent"
        more = f" (+{self.differences - 1} more tasks)" if self.differences > 1 else ""
        if self.task is None:
            return (
                f"{self.name}: DIFFERS: run {self.source_run} {self.source_label}, "
                f"{self.target_run} {self.target_label}"
            )
        return (
            f"{self.name}: DIFFERS at task {self.task!r}: {self.source} {self.source_label}, "
            f"{self.target} {self.target_label}{more}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.name,
            "verdict": "equivalent" if self.equivalent else "differs",
            "task": self.task,
            "source": self.source,
            "target": self.target,
            "differences": self.differences,
            "source_run": self.source_run,
            "target_run": self.target_run,
            "note": self.note,
        }


def _branch_choices(w: Workflow, tid: str) -> list[list[str]]:
    t = w.task(tid)
    cases = t.action.get("cases")
    if cases:
        targets = [c.get("to") for c in cases] + [t.action.get("default")]
        seen: list[str] = []
        for x in targets:
            if x and x not in seen:
                seen.append(x)
        return [[x] for x in seen]
    if t.action.get("short_circuit"):
        return [w.downstream(tid), []]
    return [[d] for d in w.downstream(tid)]


def scenario_set(w: Workflow, level: str = "basic") -> list[NamedScenario]:
    if level not in SCENARIO_SETS:
        raise UsageError(f"unknown scenario set {level!r}; known: {', '.join(SCENARIO_SETS)}")
    out = [NamedScenario("no failure", Scenario())]
    for t in w.tasks:
        # An empty task (EmptyOperator, an Oozie routing node) has nothing that
        # can fail, and a fail task always fails: neither gets a failure scenario.
        if t.action.kind in _CANNOT_FAIL:
            continue
        out.append(NamedScenario(f"{t.id} fails", Scenario(fail={t.id: ALL})))
    for t in w.tasks:
        if t.retries > 0:
            out.append(NamedScenario(f"{t.id} fails once", Scenario(fail={t.id: 1})))
    for t in w.tasks:
        if t.action.kind == "branch":
            for choice in _branch_choices(w, t.id):
                label = ", ".join(choice) if choice else "nothing"
                out.append(
                    NamedScenario(f"{t.id} chooses {label}", Scenario(branch={t.id: choice}))
                )
    if level == "all":
        ids = [t.id for t in w.tasks if t.action.kind not in _CANNOT_FAIL]
        for a, b in combinations(ids, 2):
            out.append(NamedScenario(f"{a} and {b} fail", Scenario(fail={a: ALL, b: ALL})))
        for t in w.tasks:
            if t.action.kind == "sensor":
                out.append(NamedScenario(f"{t.id} times out", Scenario(sensor={t.id: NEVER})))
    return out


def map_scenario(s: Scenario, id_map: dict[str, str]) -> Scenario | None:
    """The same scenario in the round-tripped workflow's ids (None when it names
    a task that did not survive the conversion)."""
    try:
        return Scenario(
            fail={id_map[k]: v for k, v in s.fail.items()},
            branch={id_map[k]: [id_map[x] for x in v] for k, v in s.branch.items()},
            sensor={id_map[k]: v for k, v in s.sensor.items()},
            skip={id_map[k] for k in s.skip},
            durations={id_map[k]: v for k, v in s.durations.items()},
            default_duration=s.default_duration,
        )
    except KeyError:
        return None


def _outcome(r: RunResult, tid: str) -> str:
    tr = r.tasks.get(tid)
    if tr is None:
        return "absent"
    return f"{tr.state}/{len(tr.attempts)} attempt{'s' if len(tr.attempts) != 1 else ''}"


def _run_one(w: Workflow, s: Scenario, date: str) -> RunResult:
    return run(w, s, date=date)[0]


def source_runs(src: Workflow, level: str = "basic", date: str | None = None) -> dict:
    """The source's run per scenario name (or the InputError/UsageError it
    raised). It does not depend on the target: ``compare`` computes it once and
    passes it to every target's ``compare_behaviour``."""
    date = date or src.start_date or _DEFAULT_DATE
    out: dict[str, RunResult | Exception] = {}
    for ns in scenario_set(src, level):
        try:
            out[ns.name] = _run_one(src, ns.scenario, date)
        except (InputError, UsageError) as exc:
            out[ns.name] = exc
    return out


def compare_behaviour(
    src: Workflow,
    back: Workflow,
    id_map: dict[str, str],
    level: str = "basic",
    date: str | None = None,
    source: dict | None = None,
) -> list[ScenarioVerdict]:
    """Verdict per scenario; tasks are compared in the source's task order.
    ``source``: the source's runs from ``source_runs`` (computed when absent)."""
    date = date or src.start_date or _DEFAULT_DATE
    if source is None:
        source = source_runs(src, level, date)
    verdicts: list[ScenarioVerdict] = []
    for ns in scenario_set(src, level):
        mapped = map_scenario(ns.scenario, id_map)
        if mapped is None:
            verdicts.append(
                ScenarioVerdict(ns.name, False, note="a task it names is missing after conversion")
            )
            continue
        a = source[ns.name]
        try:
            if isinstance(a, Exception):
                raise a
            b = _run_one(back, mapped, date)
        except (InputError, UsageError) as exc:
            verdicts.append(ScenarioVerdict(ns.name, False, note=f"could not run: {exc}"))
            continue
        diffs = []
        for t in src.tasks:
            sa = _outcome(a, t.id)
            if t.id not in id_map:
                # A task lost in conversion behaves like one that never runs:
                # that matters only in the scenarios where the source runs it.
                if not sa.endswith("/0 attempts"):
                    diffs.append((t.id, sa, "absent"))
                continue
            sb = _outcome(b, id_map[t.id])
            if sa != sb:
                diffs.append((t.id, sa, sb))
        run_a = a.engine_state or a.state
        run_b = b.engine_state or b.state
        if diffs:
            tid, sa, sb = diffs[0]
            verdicts.append(
                ScenarioVerdict(ns.name, False, tid, sa, sb, len(diffs), None, run_a, run_b)
            )
        elif a.state != b.state:
            verdicts.append(
                ScenarioVerdict(ns.name, False, None, None, None, 1, None, run_a, run_b)
            )
        else:
            verdicts.append(ScenarioVerdict(ns.name, True, source_run=run_a, target_run=run_b))
    return verdicts


@dataclass
class RunListVerdict:
    equivalent: bool
    source_runs: int
    target_runs: int
    first_difference: str | None = None
    window: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": "equivalent" if self.equivalent else "differs",
            "source_runs": self.source_runs,
            "target_runs": self.target_runs,
            "first_difference": self.first_difference,
            "window": self.window,
        }


def compare_run_lists(src: Workflow, back: Workflow, days: int = 31) -> RunListVerdict | None:
    """For scheduled workflows: the logical dates the scheduler would create in
    the first ``days`` after the source's start (catchup as each side says)."""
    from datetime import timedelta

    from wfconv.runtime import plan_runs
    from wfconv.runtime.api import RunOptions
    from wfconv.runtime.schedule import parse_datetime

    if src.schedule.kind not in ("cron", "interval") or not src.start_date:
        return None
    start = parse_datetime(src.start_date, src.schedule.timezone or "UTC")
    now = start + timedelta(days=days)

    def dates(w: Workflow) -> list[str]:
        try:
            runs = plan_runs(w, RunOptions(now=now.isoformat()))
        except (InputError, UsageError):
            return []
        return [r.logical_date.isoformat() for r in runs]

    a, b = dates(src), dates(back)
    first = None
    if a != b:
        for i in range(max(len(a), len(b))):
            x = a[i] if i < len(a) else None
            y = b[i] if i < len(b) else None
            if x != y:
                first = f"run {i + 1}: {x or 'none'} in the source, {y or 'none'} after conversion"
                break
    return RunListVerdict(a == b, len(a), len(b), first, [start.isoformat(), now.isoformat()])
