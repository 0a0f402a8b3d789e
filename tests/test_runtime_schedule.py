"""Run generation (docs/semantics.md R3): catchup, end_date, intervals, DST, the
Airflow 3 trigger model, backfill ranges, max_active_runs. Expected lists are
worked out by hand from Airflow's data-interval rules."""

from __future__ import annotations

import json

import pytest

from wfconv.errors import InputError, UsageError
from wfconv.ir.model import Action, Schedule, Task, Workflow
from wfconv.runtime import Scenario, plan_runs, run
from wfconv.runtime.api import RunOptions


def wf(schedule, start="2024-01-01T00:00:00+00:00", catchup=True, end=None, **kw):
    return Workflow(
        "s",
        schedule=schedule,
        start_date=start,
        end_date=end,
        catchup=catchup,
        tasks=[Task("t", Action("empty"))],
        **kw,
    )


def daily6():
    return Schedule("cron", cron="0 6 * * *", timezone="UTC")


def logicals(w, **opts):
    return [r.logical_date.isoformat() for r in plan_runs(w, RunOptions(**opts))]


def test_cron_catchup_creates_every_completed_interval():
    runs = plan_runs(wf(daily6()), RunOptions(now="2024-01-04T07:00:00+00:00"))
    assert [r.logical_date.isoformat() for r in runs] == [
        "2024-01-01T06:00:00+00:00",
        "2024-01-02T06:00:00+00:00",
        "2024-01-03T06:00:00+00:00",
    ]
    assert [r.run_after.isoformat() for r in runs] == [
        "2024-01-02T06:00:00+00:00",
        "2024-01-03T06:00:00+00:00",
        "2024-01-04T06:00:00+00:00",
    ]
    assert runs[0].data_interval_end == runs[1].data_interval_start
    assert runs[0].run_id == "scheduled__2024-01-01T06:00:00+00:00"


def test_cron_without_catchup_runs_only_the_latest_interval():
    assert logicals(wf(daily6(), catchup=False), now="2024-01-04T07:00:00+00:00") == [
        "2024-01-03T06:00:00+00:00"
    ]
    # now exactly on a tick: the interval that just ended.
    assert logicals(wf(daily6(), catchup=False), now="2024-01-04T06:00:00+00:00") == [
        "2024-01-03T06:00:00+00:00"
    ]


def test_end_date_is_inclusive_for_the_interval_start():
    w = wf(daily6(), end="2024-01-02T06:00:00+00:00")
    assert logicals(w, now="2024-02-01T00:00:00+00:00") == [
        "2024-01-01T06:00:00+00:00",
        "2024-01-02T06:00:00+00:00",
    ]


def test_interval_schedule_starts_at_start_date():
    w = wf(Schedule("interval", seconds=6 * 3600), start="2024-01-01T01:00:00+00:00")
    assert logicals(w, now="2024-01-02T02:00:00+00:00") == [
        "2024-01-01T01:00:00+00:00",
        "2024-01-01T07:00:00+00:00",
        "2024-01-01T13:00:00+00:00",
        "2024-01-01T19:00:00+00:00",
    ]


def test_interval_without_catchup_aligns_to_the_epoch_like_airflow():
    w = wf(Schedule("interval", seconds=6 * 3600), start="2024-01-01T01:00:00+00:00", catchup=False)
    assert logicals(w, now="2024-01-02T02:00:00+00:00") == ["2024-01-01T18:00:00+00:00"]


def test_dst_spring_forward_daily_in_new_york():
    w = wf(
        Schedule("cron", cron="30 2 * * *", timezone="America/New_York"),
        start="2024-03-08T00:00:00",
    )
    # 02:30 does not exist on 2024-03-10: it becomes 03:30 EDT (07:30Z).
    assert logicals(w, now="2024-03-13T00:00:00+00:00") == [
        "2024-03-08T07:30:00+00:00",
        "2024-03-09T07:30:00+00:00",
        "2024-03-10T07:30:00+00:00",
        "2024-03-11T06:30:00+00:00",
    ]


def test_dst_fall_back_hourly_steps_in_absolute_time():
    w = wf(
        Schedule("cron", cron="@hourly", timezone="America/New_York"), start="2024-11-03T00:00:00"
    )
    assert logicals(w, now="2024-11-03T09:00:00+00:00") == [
        f"2024-11-03T0{h}:00:00+00:00" for h in range(4, 9)
    ]  # no hour lost or doubled


def test_dst_fall_back_daily_interval_is_25_hours():
    w = wf(
        Schedule("cron", cron="0 1 * * *", timezone="America/New_York"), start="2024-11-02T00:00:00"
    )
    runs = plan_runs(w, RunOptions(now="2024-11-05T12:00:00+00:00"))
    assert [r.logical_date.isoformat() for r in runs] == [
        "2024-11-02T05:00:00+00:00",
        "2024-11-03T05:00:00+00:00",
        "2024-11-04T06:00:00+00:00",
    ]
    assert (runs[1].data_interval_end - runs[1].data_interval_start).total_seconds() == 25 * 3600


def test_airflow3_trigger_timetable():
    runs = plan_runs(wf(daily6()), RunOptions(now="2024-01-04T07:00:00+00:00", timetable="trigger"))
    assert [r.logical_date.isoformat() for r in runs] == [
        f"2024-01-0{d}T06:00:00+00:00" for d in (1, 2, 3, 4)
    ]
    assert all(
        r.data_interval_start == r.data_interval_end == r.logical_date == r.run_after for r in runs
    )
    assert logicals(
        wf(daily6(), catchup=False), now="2024-01-04T07:00:00+00:00", timetable="trigger"
    ) == ["2024-01-04T06:00:00+00:00"]


def test_backfill_range_is_inclusive_and_ascending():
    w = wf(Schedule("cron", cron="@daily"), catchup=False)
    runs = plan_runs(w, RunOptions(backfill=("2024-02-01", "2024-02-03")))
    assert [r.run_id for r in runs] == [f"backfill__2024-02-0{d}T00:00:00+00:00" for d in (1, 2, 3)]


def test_once_and_manual():
    w = wf(Schedule("once"), start="2024-01-05T00:00:00+00:00")
    assert logicals(w, now="2024-02-01T00:00:00+00:00") == ["2024-01-05T00:00:00+00:00"]
    assert logicals(w, now="2024-01-01T00:00:00+00:00") == []
    m = plan_runs(wf(Schedule("manual")), RunOptions(now="2024-03-01T12:00:00+00:00"))
    assert [(r.run_type, r.logical_date.isoformat()) for r in m] == [
        ("manual", "2024-03-01T12:00:00+00:00")
    ]


def test_date_and_backfill_together_is_a_usage_error():
    with pytest.raises(UsageError):
        plan_runs(
            wf(daily6()), RunOptions(date="2024-01-01", backfill=("2024-01-01", "2024-01-02"))
        )


def test_max_active_runs_delays_run_starts():
    w = wf(Schedule("cron", cron="@hourly"), max_active_runs=1)
    res = run(w, Scenario(durations={"t": 5400}), now="2024-01-01T04:00:00+00:00")
    starts = [r.start.strftime("%H:%M") for r in res]
    # triggered at 01:00, 02:00, 03:00, 04:00; each run lasts 1.5 h.
    assert starts == ["01:00", "02:30", "04:00", "05:30"]


def test_a_year_of_hourly_runs_simulates_quickly():
    w = wf(Schedule("cron", cron="@hourly"), start="2023-01-01T00:00:00+00:00")
    res = run(w, now="2024-01-01T00:00:00+00:00")
    assert len(res) == 365 * 24 and all(r.state == "success" for r in res)


def test_corpus_oozie_coordinator_nominal_times():
    """R3 identity: coord:nominalTime() = Airflow 2 data_interval_end. A daily
    coordinator at Los Angeles midnight from 2024-03-01 to 2024-04-01 (end
    excluded) materializes 31 actions across the DST change."""
    from pathlib import Path

    app = Path(__file__).resolve().parent.parent / "corpus" / "oozie" / "coord_app"
    if not app.exists():
        pytest.skip("corpus/oozie/coord_app not present")
    from wfconv.frontends import load

    (w,) = load(str(app)).workflows
    runs = plan_runs(w, RunOptions(now="2024-06-01T00:00:00+00:00"))
    nominal = [r.data_interval_end.isoformat() for r in runs]
    assert len(nominal) == 31
    assert nominal[0] == "2024-03-01T08:00:00+00:00"
    assert nominal[9:11] == ["2024-03-10T08:00:00+00:00", "2024-03-11T07:00:00+00:00"]
    assert nominal[-1] == "2024-03-31T07:00:00+00:00"


def test_unspecified_catchup_follows_the_airflow_version():
    w = wf(daily6(), catchup=None)
    now = "2024-01-04T07:00:00+00:00"
    assert len(logicals(w, now=now)) == 3  # Airflow 2: catchup_by_default = True
    assert logicals(w, now=now, timetable="trigger") == ["2024-01-04T06:00:00+00:00"]  # Airflow 3


def test_a_start_date_of_datetime_min_plans_like_any_early_start():
    """Airflow's own examples use start_date=datetime.min; cron cannot step back
    from it. Without catchup the run is the latest interval, as for any start."""
    w = Workflow(
        "old",
        tasks=[Task("t", Action("empty"))],
        schedule=Schedule("cron", "0 0 * * *"),
        start_date="0001-01-01T00:00:00+00:00",
        catchup=False,
    )
    runs = plan_runs(w, RunOptions(now="2024-03-05T12:00:00+00:00"))
    assert [r.logical_date.isoformat() for r in runs] == ["2024-03-04T00:00:00+00:00"]


@pytest.mark.parametrize("timetable", ["trigger", "data_interval"])
@pytest.mark.parametrize(
    "schedule", [Schedule("cron", cron="@daily"), Schedule("interval", seconds=86400)]
)
def test_runs_at_the_ends_of_time(schedule, timetable):
    """Years 1 and 9999 (Airflow's examples start at datetime.min, a user
    backfills to 9999-12-31): the runs that exist, no OverflowError. A data
    interval that would end after 9999 is no run; a tick after it neither."""
    w = wf(schedule, start="0001-01-01T00:00:00+00:00", catchup=False)
    first = logicals(w, backfill=("0001-01-01", "0001-01-03"), timetable=timetable)
    assert first == [f"0001-01-0{d}T00:00:00+00:00" for d in (1, 2, 3)]
    last = logicals(w, backfill=("9999-12-29", "9999-12-31T23:59:59"), timetable=timetable)
    days = (29, 30, 31) if timetable == "trigger" else (29, 30)
    assert last == [f"9999-12-{d}T00:00:00+00:00" for d in days]
    if timetable == "trigger":
        assert logicals(w, date="9999-12-31", timetable=timetable) == ["9999-12-31T00:00:00+00:00"]
    else:
        with pytest.raises(InputError, match="after the year 9999"):
            logicals(w, date="9999-12-31", timetable=timetable)
    w.catchup = True
    w.start_date = "9999-12-30T00:00:00+00:00"
    now = "9999-12-31T23:59:59+00:00"
    assert len(logicals(w, now=now, timetable=timetable)) == len(days) - 1


def test_a_date_outside_python_s_range_in_utc_is_an_input_error():
    with pytest.raises(InputError, match="outside the years 1 to 9999"):
        logicals(wf(daily6()), date="0001-01-01T00:00:00+05:00")


@pytest.mark.parametrize("name", ["example_outlet_event_extra.py", "example_inlet_event_extra.py"])
def test_run_backfills_airflow_s_event_extra_examples_at_the_end_of_time(name, airflow3_python):
    """The DAGs issue 15 saw fail with OverflowError (start_date=datetime.min)."""
    from click.testing import CliRunner

    from wfconv.cli import main

    lib = airflow3_python.parent.parent / "lib" / "python3.11" / "site-packages"
    path = lib / "airflow" / "example_dags" / name
    r = CliRunner().invoke(
        main, ["run", str(path), "--backfill", "9999-12-30", "9999-12-31", "--format", "json"]
    )
    assert r.exit_code == 0, r.output
    runs = json.loads(r.output)["runs"]
    assert runs and all(x["run_id"].startswith("backfill__9999-12-3") for x in runs)
