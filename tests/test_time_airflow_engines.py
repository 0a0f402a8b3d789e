"""Airflow 2 DAGs converted to Airflow 3 start the same runs and render the same commands.

Proved in the real engines: the source files are planned and rendered by
Airflow 2.10.5, the converted files by Airflow 3.3.2, each by its own
scheduler timetable and templating (``wfconv.engines.airflow_time``). A copy of
each source moved to Airflow 3 unchanged is planned too: it must differ, or
this test could not tell a faithful conversion from a naive one.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from wfconv.cli import main
from wfconv.engines.airflow_time import read_runs
from wfconv.frontends import load
from wfconv.runtime import RunOptions, plan_runs

pytestmark = [pytest.mark.engine, pytest.mark.slow]

RUNS = 5
COMMAND = (
    "echo {{ ds }} {{ ds_nodash }} {{ ts }} {{ logical_date }} {{ data_interval_start }} "
    "{{ data_interval_end }} {{ macros.ds_add(ds, 1) }} {{ data_interval_end | ds }}"
)

# dag id -> (schedule argument, start_date expression); every form a user
# writes: a cron string, presets, timedelta, and timezones with a DST change
# inside the first runs (Europe/Paris: 31 March 2024; New York: 10 March 2024).
SOURCES = {
    "cron_utc": ('schedule="0 6 * * *"', "datetime(2024, 3, 1)"),
    "preset_hourly": ('schedule_interval="@hourly"', "datetime(2024, 3, 1, 0, 30)"),
    "preset_daily_ny": (
        'schedule="@daily"',
        'pendulum.datetime(2024, 3, 8, tz="America/New_York")',
    ),
    "delta_6h": ("schedule=timedelta(hours=6)", "datetime(2024, 3, 1, 3)"),
    "paris_weekdays": (
        'schedule="30 2 * * 1-5"',
        'pendulum.datetime(2024, 3, 27, tz="Europe/Paris")',
    ),
}


def _source(dag_id: str, schedule: str, start: str) -> str:
    return textwrap.dedent(
        f"""\
        from datetime import datetime, timedelta

        import pendulum
        from airflow import DAG
        from airflow.operators.bash import BashOperator

        with DAG(
            dag_id="{dag_id}",
            {schedule},
            start_date={start},
            default_args={{"owner": "data-eng"}},
        ) as dag:
            BashOperator(task_id="report", bash_command="{COMMAND}")
        """
    )


@pytest.fixture(scope="module")
def planned(tmp_path_factory, airflow2_python, airflow3_python):
    """(source runs in 2.10.5, converted runs in 3.3.2, naive copies in 3.3.2)."""
    base = tmp_path_factory.mktemp("time2to3")
    src, out = base / "src", base / "out"
    src.mkdir()
    for dag_id, (schedule, start) in SOURCES.items():
        (src / f"{dag_id}.py").write_text(_source(dag_id, schedule, start), encoding="utf-8")
    runner = CliRunner()
    r = runner.invoke(main, ["convert", str(src), "--to", "airflow", "-o", str(out)])
    assert r.exit_code == 0, r.output
    for dag_id, (schedule, start) in SOURCES.items():
        if "schedule_interval" not in schedule:  # Airflow 3 refuses that argument
            naive = _source(f"{dag_id}_naive", schedule, start)
            (out / f"{dag_id}_naive.py").write_text(naive, encoding="utf-8")
    two = read_runs(airflow2_python, src, runs=RUNS)
    three = read_runs(airflow3_python, out, runs=RUNS)
    assert two.import_errors == {} and three.import_errors == {}
    return two, three, out


@pytest.mark.parametrize("dag_id", sorted(SOURCES))
def test_converted_dag_starts_the_same_runs_as_in_airflow2(planned, dag_id):
    two, three, _ = planned
    source, converted = two.runs(dag_id), three.runs(dag_id)
    assert len(source) == RUNS
    assert [r.times() for r in converted] == [r.times() for r in source]


@pytest.mark.parametrize("dag_id", sorted(SOURCES))
def test_converted_dag_renders_the_same_commands_as_in_airflow2(planned, dag_id):
    two, three, _ = planned
    want = [r.rendered["report"]["bash_command"] for r in two.runs(dag_id)]
    got = [r.rendered["report"]["bash_command"] for r in three.runs(dag_id)]
    assert got == want
    assert all("{{" not in c for c in got)


def test_the_dag_moved_unchanged_runs_differently(planned):
    """The control: a bare cron/preset/timedelta means a trigger in Airflow 3."""
    two, three, _ = planned
    for dag_id, (schedule, _start) in SOURCES.items():
        if "schedule_interval" in schedule:
            continue
        source, naive = two.runs(dag_id), three.runs(f"{dag_id}_naive")
        assert naive[0].run_after < source[0].run_after, dag_id  # one period early
        assert naive[0].data_interval_start == naive[0].data_interval_end, dag_id


@pytest.mark.parametrize("dag_id", sorted(SOURCES))
def test_wfconv_run_predicts_both_engines(planned, dag_id):
    """The reference runtime plans the runs each engine plans, from the IR of
    the source (Airflow 2's data intervals) and of the converted file."""
    two, three, out = planned
    src = load(str(out.parent / "src" / f"{dag_id}.py")).workflows[0]
    back = load(str(out / f"{dag_id}.py")).workflows[0]
    for w, engine in ((src, two), (back, three)):
        want = engine.runs(dag_id)
        got = plan_runs(w, RunOptions(now=want[-1].run_after, catchup=True))[:RUNS]
        assert [
            (r.run_after, r.logical_date, r.data_interval_start, r.data_interval_end) for r in got
        ] == [r.times() for r in want]


def test_converted_files_say_the_time_model(planned):
    two, three, out = planned
    assert {three.timetables[d] for d in SOURCES} == {
        "CronDataIntervalTimetable",
        "DeltaDataIntervalTimetable",
    }
    code = Path(out, "cron_utc.py").read_text(encoding="utf-8")
    assert 'schedule=CronDataIntervalTimetable("0 6 * * *", timezone="UTC")' in code
    assert "catchup=True" in code  # Airflow 2's default, which Airflow 3 does not share
