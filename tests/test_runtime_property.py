"""Property test: the incremental scheduler loop agrees with a naive
pass-based scheduler written here from R1 (every pass re-evaluates every
waiting task on a snapshot of all states, until nothing changes), on random
DAGs, trigger rules, outcomes and durations."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from wfconv.ir.model import TRIGGER_RULES, Action, Edge, Task, Workflow
from wfconv.runtime import ALL, Scenario, run
from wfconv.runtime.rules import evaluate

COUNT = {"success": 0, "skipped": 1, "failed": 2, "upstream_failed": 3}


def naive(tasks, ups, rules, outcome, duration):
    """Final states and start offsets, one scheduler pass at a time."""
    state = dict.fromkeys(tasks)
    start: dict[str, float] = {}
    running: dict[str, float] = {}
    t = 0.0
    while True:
        changed = True
        while changed:
            changed = False
            snap = dict(state)
            for x in tasks:
                if snap[x] is not None:
                    continue
                c = [0, 0, 0, 0]
                for u in ups[x]:
                    if snap[u] in COUNT:
                        c[COUNT[snap[u]]] += 1
                v = evaluate(rules[x], *c, len(ups[x]))
                if v == "run":
                    state[x] = "running"
                    start[x] = t
                    running[x] = t + duration[x]
                elif v != "wait":
                    state[x] = v
                    changed = True
        if not running:
            return state, start
        t = min(running.values())
        for x in [x for x, e in running.items() if e == t]:
            del running[x]
            state[x] = outcome[x]


@st.composite
def dags(draw):
    n = draw(st.integers(2, 9))
    tasks = [f"t{i}" for i in range(n)]
    edges = [(a, b) for b in range(n) for a in range(b) if draw(st.booleans())]
    rules = {x: draw(st.sampled_from(TRIGGER_RULES)) for x in tasks}
    outcome = {x: draw(st.sampled_from(["success", "success", "failed", "skipped"])) for x in tasks}
    duration = {x: float(draw(st.integers(1, 3))) for x in tasks}
    return tasks, edges, rules, outcome, duration


@settings(max_examples=300, deadline=None)
@given(dags())
def test_engine_matches_naive_pass_scheduler(case):
    tasks, edges, rules, outcome, duration = case
    ups = {x: [tasks[a] for a, b in edges if tasks[b] == x] for x in tasks}
    w = Workflow(
        "p",
        tasks=[Task(x, Action("shell", {"command": "x"}), trigger_rule=rules[x]) for x in tasks],
        edges=[Edge(tasks[a], tasks[b]) for a, b in edges],
    )
    sc = Scenario(
        fail={x: ALL for x in tasks if outcome[x] == "failed"},
        skip={x for x in tasks if outcome[x] == "skipped"},
        durations=duration,
    )
    (res,) = run(w, sc, date="2024-01-01")
    want_state, want_start = naive(tasks, ups, rules, outcome, duration)
    assert {x: res.tasks[x].state for x in tasks} == want_state
    got_start = {
        x: (res.tasks[x].start - res.start).total_seconds() for x in tasks if res.tasks[x].attempts
    }
    assert got_start == want_start
    leaves = [x for x in tasks if not any(tasks[a] == x for a, _ in edges)]
    failed_leaf = any(want_state[x] in ("failed", "upstream_failed") for x in leaves)
    assert res.state == ("failed" if failed_leaf else "success")


@settings(max_examples=150, deadline=None)
@given(
    dags(),
    st.sampled_from([1.0, 0.0, 60.0, 1.5]),
    st.sampled_from([None, 2.0, 3600.0, 2.5]),
    st.sampled_from(["@hourly", "*/20 * * * *", "30 */3 * * *"]),
)
def test_runs_shifted_in_time_are_the_runs_the_loop_makes(case, default, timeout, cron):
    # engine.RunEngine._replay_key: the later runs of a plain workflow are the
    # first one's outcome shifted in time. They must be exactly what the loop
    # computes for each run (fractional durations and timeouts, which the
    # shift does not take, included as a control).
    from wfconv.ir.model import Schedule
    from wfconv.runtime.engine import RunEngine, _Replay

    tasks, edges, rules, *_ = case
    w = Workflow(
        "p",
        tasks=[Task(x, Action("empty"), trigger_rule=rules[x]) for x in tasks],
        edges=[Edge(tasks[a], tasks[b]) for a, b in edges],
    )
    w.schedule = Schedule("cron", cron=cron)
    w.start_date = "2024-01-01T00:00:00+00:00"
    w.catchup = True
    w.timeout_s = timeout
    sc = Scenario(default_duration=default)
    replays = []
    real_at = _Replay.at
    try:
        _Replay.at = lambda self, t0: replays.append(t0) or real_at(self, t0)
        shifted = run(w, sc, now="2024-01-01T09:00:00+00:00")
    finally:
        _Replay.at = real_at
    if timeout is None and default != 1.5:
        assert len(replays) == len(shifted) - 1  # every run after the first
    original = RunEngine._replay_key
    try:
        RunEngine._replay_key = lambda self: None
        looped = run(w, sc, now="2024-01-01T09:00:00+00:00")
    finally:
        RunEngine._replay_key = original
    assert len(shifted) >= 2
    assert shifted == looped
