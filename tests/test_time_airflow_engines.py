"""Airflow DAGs converted between versions start the same runs and render the same commands.

Proved in the real engines: Airflow 2 sources are planned and rendered by
Airflow 2.10.5 and their Airflow 3 conversions by Airflow 3.3.2; Airflow 3
sources by 3.3.2 and their ``--airflow-version 2`` conversions by 2.10.5; each
by its own scheduler timetable and templating (``wfconv.engines.dagbag``;
one engine process per version for the whole module). A copy of each Airflow 2
source moved to Airflow 3 unchanged is planned too: it must differ, or these
tests could not tell a faithful conversion from a naive one.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from wfconv.cli import main
from wfconv.engines.dagbag import read_runs
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


# Airflow 3 sources: a cron, a preset, an interval on a 6-hour grid (Airflow 2
# has no DeltaTriggerTimetable: the same ticks as a cron), and a trigger
# timetable with a data interval, in Tokyo.
SOURCES3 = {
    "v3_cron": ('schedule="15 4 * * *"', "datetime(2024, 3, 1)"),
    "v3_hourly": ('schedule="@hourly"', "datetime(2024, 3, 1, 0, 30)"),
    "v3_delta_6h": ("schedule=timedelta(hours=6)", "datetime(2024, 3, 1, 6)"),
    "v3_trigger_interval": (
        'schedule=CronTriggerTimetable("0 9 * * *", timezone="Asia/Tokyo", '
        "interval=timedelta(hours=3))",
        'pendulum.datetime(2024, 3, 1, tz="Asia/Tokyo")',
    ),
}

AIRFLOW2_IMPORTS = "from airflow import DAG\nfrom airflow.operators.bash import BashOperator"
AIRFLOW3_IMPORTS = (
    "from airflow.providers.standard.operators.bash import BashOperator\n"
    "from airflow.sdk import DAG, CronTriggerTimetable"
)


def _source(dag_id: str, schedule: str, start: str, imports: str = AIRFLOW2_IMPORTS) -> str:
    head = f"from datetime import datetime, timedelta\n\nimport pendulum\n{imports}\n\n"
    return head + textwrap.dedent(
        f"""\
        with DAG(
            dag_id="{dag_id}",
            {schedule},
            start_date={start},
            default_args={{"owner": "data-eng"}},
        ) as dag:
            BashOperator(task_id="report", bash_command="{COMMAND}")
        """
    )


def _write(folder: Path, sources: dict, imports: str) -> None:
    folder.mkdir()
    for dag_id, (schedule, start) in sources.items():
        text = _source(dag_id, schedule, start, imports)
        (folder / f"{dag_id}.py").write_text(text, encoding="utf-8")


def _convert(src: Path, out: Path, *options: str) -> None:
    r = CliRunner().invoke(main, ["convert", str(src), "--to", "airflow", "-o", str(out), *options])
    assert r.exit_code == 0, r.output


@pytest.fixture(scope="module")
def planned(tmp_path_factory, airflow2_python, airflow3_python):
    """(what 2.10.5 plans, what 3.3.2 plans, the folder of Airflow 3 files).

    2.10.5 reads the Airflow 2 sources and the conversions of the Airflow 3
    sources; 3.3.2 the Airflow 3 sources, the conversions of the Airflow 2
    sources, and the naive copies."""
    base = tmp_path_factory.mktemp("time_versions")
    _write(base / "src2", SOURCES, AIRFLOW2_IMPORTS)
    _write(base / "src3", SOURCES3, AIRFLOW3_IMPORTS)
    in2, in3 = base / "airflow2", base / "airflow3"
    _convert(base / "src2", in3)
    _convert(base / "src3", in2, "--airflow-version", "2")
    for folder in ("src2", "src3"):
        for f in (base / folder).glob("*.py"):
            (in2 if folder == "src2" else in3).joinpath(f.name).write_text(f.read_text())
    for dag_id, (schedule, start) in SOURCES.items():
        if "schedule_interval" not in schedule:  # Airflow 3 refuses that argument
            naive = _source(f"{dag_id}_naive", schedule, start)
            (in3 / f"{dag_id}_naive.py").write_text(naive, encoding="utf-8")
    two = read_runs(airflow2_python, in2, runs=RUNS)
    three = read_runs(airflow3_python, in3, runs=RUNS)
    assert two.import_errors == {} and three.import_errors == {}
    return two, three, in3


def _source_and_converted(planned, dag_id):
    """(the source's runs, the conversion's runs), each in its own engine."""
    two, three, _ = planned
    return (two, three) if dag_id in SOURCES else (three, two)


@pytest.mark.parametrize("dag_id", sorted(SOURCES) + sorted(SOURCES3))
def test_converted_dag_starts_the_same_runs(planned, dag_id):
    source, converted = (e.runs(dag_id) for e in _source_and_converted(planned, dag_id))
    assert len(source) == RUNS
    assert [r.times() for r in converted] == [r.times() for r in source]


@pytest.mark.parametrize("dag_id", sorted(SOURCES) + sorted(SOURCES3))
def test_converted_dag_renders_the_same_commands(planned, dag_id):
    source, converted = (e.runs(dag_id) for e in _source_and_converted(planned, dag_id))
    want = [r.rendered["report"]["bash_command"] for r in source]
    got = [r.rendered["report"]["bash_command"] for r in converted]
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
    src = load(str(out.parent / "src2" / f"{dag_id}.py")).workflows[0]
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
    # Airflow 2 has no DeltaTriggerTimetable: the 6-hour grid is a cron there
    assert {two.timetables[d] for d in SOURCES3} == {"CronTriggerTimetable"}
    code = Path(out, "cron_utc.py").read_text(encoding="utf-8")
    assert 'schedule=CronDataIntervalTimetable("0 6 * * *", timezone="UTC")' in code
    assert "catchup=True" in code  # Airflow 2's default, which Airflow 3 does not share
