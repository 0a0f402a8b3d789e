"""Oozie coordinators converted to Airflow 3 and Prefect run at the nominal times.

Oozie starts action k at its nominal time N_k and the workflow reads N_k
through ``coord:nominalTime()`` (docs/semantics.md §4, R3). The nominal times
below are worked out by hand from Oozie's rule (start + k·frequency, wall clock
of the coordinator's timezone for ``coord:days``, while N_k < end). The
converted DAGs are planned and rendered by real Airflow 3.3.2
(``wfconv.engines.dagbag``); the converted Prefect modules' deployment
schedules come from Prefect's own schedule code and each scheduled start goes
through the module's ``wfconv_run_dates`` and task bodies
(``wfconv.engines.prefect_child``).
"""

from __future__ import annotations

import shlex
from datetime import UTC, datetime
from pathlib import Path
from subprocess import CompletedProcess

import pytest
from click.testing import CliRunner

from wfconv.cli import main
from wfconv.engines.dagbag import read_runs
from wfconv.engines.prefect_child import (
    deployment_dates,
    load_module,
    run_scheduled,
    served_flow,
)

pytestmark = [pytest.mark.engine, pytest.mark.slow]

WORKFLOW = """\
<workflow-app xmlns="uri:oozie:workflow:0.5" name="{name}-wf">
  <start to="count"/>
  <action name="count">
    <map-reduce>
      <job-tracker>${{jobTracker}}</job-tracker>
      <name-node>${{nameNode}}</name-node>
      <configuration>
        <property><name>mapred.output.dir</name><value>/data/${{day}}</value></property>
      </configuration>
    </map-reduce>
    <ok to="report"/>
    <error to="fail"/>
  </action>
  <action name="report">
    <shell xmlns="uri:oozie:shell-action:0.3">
      <job-tracker>${{jobTracker}}</job-tracker>
      <name-node>${{nameNode}}</name-node>
      <exec>echo</exec>
      <argument>${{day}}</argument>
      <argument>${{stamp}}</argument>
    </shell>
    <ok to="end"/>
    <error to="fail"/>
  </action>
  <kill name="fail"><message>failed ${{day}}</message></kill>
  <end name="end"/>
</workflow-app>
"""

COORDINATOR = """\
<coordinator-app name="{name}" frequency="{frequency}" start="{start}" end="{end}"
    timezone="{tz}" xmlns="uri:oozie:coordinator:0.4">
  <action>
    <workflow>
      <app-path>${{nameNode}}/apps/{name}</app-path>
      <configuration>
        <property><name>day</name>
          <value>${{coord:formatTime(coord:nominalTime(), 'yyyy-MM-dd')}}</value></property>
        <property><name>stamp</name>
          <value>${{coord:formatTime(coord:nominalTime(), 'yyyyMMddHHmm')}}</value></property>
      </configuration>
    </workflow>
  </action>
</coordinator-app>
"""


def _utc(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=UTC)


# name -> (frequency, start, end, timezone, Oozie's nominal times)
COORDINATORS = {
    # Local midnight in Los Angeles; DST starts on 10 March 2024 (08:00Z -> 07:00Z).
    "la_daily": (
        "${coord:days(1)}",
        "2024-03-08T08:00Z",
        "2024-03-13T08:00Z",
        "America/Los_Angeles",
        [_utc(2024, 3, 8, 8), _utc(2024, 3, 9, 8), _utc(2024, 3, 10, 8)]
        + [_utc(2024, 3, d, 7) for d in (11, 12, 13)],
    ),
    # Every 5 hours from 01:00: no cron holds it (an interval).
    "every_5h": (
        "${coord:hours(5)}",
        "2024-01-01T01:00Z",
        "2024-01-02T00:00Z",
        "UTC",
        [_utc(2024, 1, 1, h) for h in (1, 6, 11, 16, 21)],
    ),
    # Quartz day-of-week 2-6 = Monday to Friday, from Wednesday 3 January.
    "weekdays": (
        "30 6 * * 2-6",
        "2024-01-03T00:00Z",
        "2024-01-10T00:00Z",
        "UTC",
        [_utc(2024, 1, d, 6, 30) for d in (3, 4, 5, 8, 9)],
    ),
}


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    """{name: (Airflow 3 folder, Prefect module path)} for every coordinator."""
    base = tmp_path_factory.mktemp("oozie_time")
    runner = CliRunner()
    out = {}
    for name, (frequency, start, end, tz, _) in COORDINATORS.items():
        app = base / "apps" / name
        app.mkdir(parents=True)
        (app / "workflow.xml").write_text(WORKFLOW.format(name=name), encoding="utf-8")
        coordinator = COORDINATOR.format(
            name=name, frequency=frequency, start=start, end=end, tz=tz
        )
        (app / "coordinator.xml").write_text(coordinator, encoding="utf-8")
        (app / "job.properties").write_text("nameNode=hdfs://nn:8020\njobTracker=jt:8032\n")
        for target in ("airflow", "prefect"):
            dest = base / target / name
            r = runner.invoke(main, ["convert", str(app), "--to", target, "-o", str(dest)])
            assert r.exit_code == 0, r.output
        out[name] = (
            base / "airflow",
            next(
                p for p in (base / "prefect" / name).glob("*.py") if p.name != "wfconv_prefect.py"
            ),
        )
    return out


@pytest.fixture(scope="module")
def airflow3_runs(converted, airflow3_python):
    # One DagBag for every converted DAG; one run more than Oozie has, to see the end.
    folder = next(iter(converted.values()))[0]
    dags = read_runs(airflow3_python, folder, runs=7)
    assert dags.import_errors == {}
    return dags


def _words(command: str) -> list[str]:
    return shlex.split(command)


@pytest.mark.parametrize("name", sorted(COORDINATORS))
def test_airflow3_runs_start_at_the_nominal_times_and_see_them(airflow3_runs, name):
    nominal = COORDINATORS[name][4]
    runs = airflow3_runs.runs(name)
    assert [r.run_after for r in runs] == nominal  # no run before, between or after
    assert [r.logical_date for r in runs] == nominal
    assert [r.data_interval_end for r in runs] == nominal


@pytest.mark.parametrize("name", sorted(COORDINATORS))
def test_airflow3_renders_the_nominal_dates(airflow3_runs, name):
    for run, n in zip(airflow3_runs.runs(name), COORDINATORS[name][4], strict=True):
        day, stamp = n.strftime("%Y-%m-%d"), n.strftime("%Y%m%d%H%M")
        assert _words(run.rendered["report"]["bash_command"]) == ["echo", day, stamp]
        # the map-reduce -D property: the date itself, no quotes inside the value
        count = _words(run.rendered["count"]["bash_command"])
        assert f"mapred.output.dir=/data/{day}" in count


@pytest.mark.parametrize("name", sorted(COORDINATORS))
def test_prefect_deployment_runs_at_the_nominal_times_and_sees_them(
    converted, name, prefect_harness, monkeypatch
):
    nominal = COORDINATORS[name][4]
    monkeypatch.syspath_prepend(str(converted[name][1].parent))  # its wfconv_prefect helper
    module = load_module(converted[name][1])
    dates = deployment_dates(module, len(nominal) + 1, nominal[0].replace(year=2023))
    assert dates == nominal  # Prefect's own schedule: no date before or after
    # A trigger-model flow dates its run by the scheduled start itself (no
    # wfconv_run_dates); the runs below show the dates the tasks see.
    run_dates = getattr(module, "wfconv_run_dates", None)
    for when in dates if run_dates else ():
        assert run_dates(when, False) == (when, when, when)
    commands: list[str] = []

    def record(command, **kwargs):  # the task bodies' run: record, run nothing
        commands.append(command[-1] if isinstance(command, list) else command)
        return CompletedProcess(command, 0, "", "")  # (["bash", "-c", text]: what bash runs)

    module.run = record  # the module's `from subprocess import run`
    for when in (dates[0], dates[-1]):  # real flow runs cost a second or two each
        state = run_scheduled(served_flow(module), when)
        assert state.is_completed(), state
        count, report = (_words(c) for c in commands[-2:])
        utc = when.astimezone(UTC)  # Prefect gives the time in the schedule's zone
        day, stamp = utc.strftime("%Y-%m-%d"), utc.strftime("%Y%m%d%H%M")
        assert report == ["echo", day, stamp]
        assert f"mapred.output.dir=/data/{day}" in count


def test_the_oozie_writer_starts_coordinators_at_the_same_nominal_times(converted, tmp_path):
    """Round trip: the coordinator wfconv writes back has the same nominal times."""
    from lxml import etree

    runner = CliRunner()
    src = next(iter(converted.values()))[0].parent / "apps" / "la_daily"
    r = runner.invoke(main, ["convert", str(src), "--to", "oozie", "-o", str(tmp_path / "oz")])
    assert r.exit_code == 0, r.output
    root = etree.fromstring(Path(tmp_path / "oz" / "coordinator.xml").read_bytes())
    assert (root.get("start"), root.get("frequency")) == ("2024-03-08T08:00Z", "${coord:days(1)}")
