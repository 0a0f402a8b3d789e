"""Retries, timeouts and sensors with exact virtual timestamps (docs/semantics.md R8).

Every task attempt lasts 1 virtual second unless the scenario says otherwise;
times below are offsets from the run's start.
"""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, datetime

from wfconv.ir.model import Action, SourceRef, Task, Workflow
from wfconv.runtime import ALL, NEVER, Scenario, run


def one(task, engine=None, scenario=None, timeout_s=None):
    w = Workflow(
        "dag",
        tasks=[task],
        timeout_s=timeout_s,
        source=SourceRef(engine, "x", 1) if engine else None,
    )
    (res,) = run(w, scenario or Scenario(), date="2024-01-01T00:00:00+00:00")
    return res


def tries(res, tid="t"):
    t0 = res.start
    return [
        (a.state, (a.start - t0).total_seconds(), (a.end - t0).total_seconds())
        for a in res.tasks[tid].attempts
    ]


def test_fixed_delay_retries_until_success():
    t = Task("t", Action("shell", {"command": "x"}), retries=2, retry_delay_s=10)
    res = one(t, scenario=Scenario(fail={"t": 2}))
    assert tries(res) == [("failed", 0, 1), ("failed", 11, 12), ("success", 22, 23)]
    assert res.tasks["t"].state == "success" and res.state == "success"


def test_retries_exhausted():
    t = Task("t", Action("shell", {"command": "x"}), retries=1, retry_delay_s=10)
    res = one(t, scenario=Scenario(fail={"t": ALL}))
    assert tries(res) == [("failed", 0, 1), ("failed", 12 - 1, 12)]
    assert res.tasks["t"].state == "failed" and res.state == "failed"
    states = [e.state for e in res.trace]
    assert states == ["scheduled", "running", "up_for_retry", "scheduled", "running", "failed"]


def test_default_retry_delay_is_the_engines():
    t = Task("t", Action("shell", {"command": "x"}), retries=1)
    assert tries(one(t, "airflow", Scenario(fail={"t": 1})))[1][1] == 301  # 300 s
    assert tries(one(t, "luigi", Scenario(fail={"t": 1})))[1][1] == 901  # 900 s
    assert tries(one(t, "prefect", Scenario(fail={"t": 1})))[1][1] == 1  # 0 s


def airflow_backoff(d, n, dag, task, logical):
    """Airflow's TaskInstance.next_retry_datetime, written from its source."""
    lo = max(1, math.ceil(d * 2 ** (n - 1)))
    h = int(hashlib.sha1(f"{dag}#{task}#{logical}#{n}".encode()).hexdigest(), 16)
    return min(lo + h % lo, 86400)


def test_airflow_exponential_backoff_is_hashed_within_bounds():
    t = Task(
        "t",
        Action("shell", {"command": "x"}),
        retries=3,
        retry_delay_s=60,
        retry_backoff="exponential",
    )
    res = one(t, "airflow", Scenario(fail={"t": ALL}))
    logical = datetime(2024, 1, 1, tzinfo=UTC).isoformat()
    got = tries(res)
    end = 1
    for n in (1, 2, 3):
        delay = airflow_backoff(60, n, "dag", "t", logical)
        assert 60 * 2 ** (n - 1) <= delay < 60 * 2**n
        assert got[n][1] == end + delay
        end = got[n][2]
    assert len(got) == 4


def test_exponential_capped_by_max_retry_delay():
    t = Task(
        "t",
        Action("shell", {"command": "x"}),
        retries=3,
        retry_delay_s=60,
        retry_backoff="exponential",
        max_retry_delay_s=100,
    )
    res = one(t, "airflow", Scenario(fail={"t": ALL}))
    got = tries(res)
    d1 = min(100, airflow_backoff(60, 1, "dag", "t", datetime(2024, 1, 1, tzinfo=UTC).isoformat()))
    assert got[1][1] == 1 + d1
    # [120, 240) and [240, 480) are both above the cap: exactly 100 s.
    assert got[2][1] - got[1][2] == 100
    assert got[3][1] - got[2][2] == 100


def test_max_retry_delay_does_not_cap_a_fixed_delay():
    # Airflow's next_retry_datetime caps only the exponential branch.
    t = Task(
        "t", Action("shell", {"command": "x"}), retries=1, retry_delay_s=600, max_retry_delay_s=100
    )
    got = tries(one(t, "airflow", Scenario(fail={"t": 1})))
    assert got[1][1] - got[0][2] == 600


def test_prefect_exponential_and_oozie_exponential_double():
    t = Task(
        "t",
        Action("shell", {"command": "x"}),
        retries=3,
        retry_delay_s=10,
        retry_backoff="exponential",
    )
    for engine in ("prefect", "oozie"):
        got = tries(one(t, engine, Scenario(fail={"t": ALL})))
        waits = [got[k][1] - got[k - 1][2] for k in (1, 2, 3)]
        assert waits == [10, 20, 40]


def test_per_attempt_delay_list_last_repeats():
    t = Task("t", Action("shell", {"command": "x"}), retries=3, retry_delay_s=[5, 30])
    got = tries(one(t, "prefect", Scenario(fail={"t": ALL})))
    assert [got[k][1] - got[k - 1][2] for k in (1, 2, 3)] == [5, 30, 30]


def test_timeout_fails_the_attempt_and_is_retried():
    t = Task("t", Action("shell", {"command": "x"}), retries=1, retry_delay_s=5, timeout_s=10)
    res = one(t, scenario=Scenario(durations={"t": 30}))
    assert tries(res) == [("failed", 0, 10), ("failed", 15, 25)]
    assert "timed out" in res.tasks["t"].attempts[0].reason


def sensor(**fields):
    return Task(
        "t",
        Action(
            "sensor", {"sensor": "FileSensor", "poke_interval_s": 60, "timeout_s": 300, **fields}
        ),
        retries=2,
        retry_delay_s=10,
    )


def test_sensor_succeeds_on_poke_n():
    res = one(sensor(), scenario=Scenario(sensor={"t": 3}))
    assert tries(res) == [("success", 0, 120)]  # pokes at 0, 60, 120


def test_sensor_default_succeeds_on_first_poke():
    assert tries(one(sensor())) == [("success", 0, 0)]


def test_sensor_timeout_fails_without_retry():
    res = one(sensor(), scenario=Scenario(sensor={"t": NEVER}))
    # pokes at 0..300 are within the timeout; the poke at 360 is the last.
    assert tries(res) == [("failed", 0, 360)]
    assert res.tasks["t"].state == "failed"


def test_sensor_success_on_last_poke_before_giving_up():
    assert tries(one(sensor(), scenario=Scenario(sensor={"t": 7}))) == [("success", 0, 360)]
    assert tries(one(sensor(), scenario=Scenario(sensor={"t": 8})))[0][0] == "failed"


def test_sensor_soft_fail_skips():
    res = one(sensor(soft_fail=True), scenario=Scenario(sensor={"t": NEVER}))
    assert tries(res) == [("skipped", 0, 360)]
    assert res.tasks["t"].state == "skipped" and res.state == "success"


def test_run_timeout_fails_run_and_skips_unfinished():
    t = Task("t", Action("shell", {"command": "x"}))
    res = one(t, scenario=Scenario(durations={"t": 100}), timeout_s=30)
    assert res.state == "failed"
    assert res.tasks["t"].state == "skipped"
    assert (res.end - res.start).total_seconds() == 30
    assert any(n["code"] == "RT121" for n in res.notes)


def test_depends_on_past_waits_for_and_blocks_on_the_previous_run():
    from wfconv.ir.model import Schedule

    t = Task("t", Action("shell", {"command": "x"}), depends_on_past=True)
    w = Workflow(
        "dop",
        schedule=Schedule("cron", cron="@hourly"),
        start_date="2024-01-01T00:00:00+00:00",
        catchup=True,
        tasks=[t],
    )
    # Each attempt lasts 2 h: run 2 (triggered 02:00) waits for run 1 (ends 03:00),
    # run 3 (triggered 03:00) for run 2 (ends 05:00).
    res = run(w, Scenario(durations={"t": 7200}), now="2024-01-01T03:00:00+00:00")
    assert [(r.tasks["t"].start - r.start).total_seconds() for r in res] == [0, 3600, 7200]
    # A failed previous instance blocks the task for ever; the run stays running.
    res = run(w, Scenario(fail={"t": ALL}), now="2024-01-01T03:00:00+00:00")
    assert [r.state for r in res] == ["failed", "running", "running"]
    assert res[1].tasks["t"].state == "scheduled"
    assert res[1].notes[0]["code"] == "RT122"


def test_execution_timeout_cuts_a_sensor_and_is_retried():
    t = Task(
        "t",
        Action("sensor", {"poke_interval_s": 60, "timeout_s": 3600}),
        retries=1,
        retry_delay_s=10,
        timeout_s=100,
    )
    res = one(t, scenario=Scenario(sensor={"t": 5}))  # would succeed at 240 s
    assert tries(res) == [("failed", 0, 100), ("failed", 110, 210)]
