"""The engine harness: emitted code checked in the real engines (Airflow 3.3.2
and 2.10.5 side virtualenvs, Prefect, Luigi, Oozie's schemas). Each check class
is shown to catch a real difference and to pass where there is none.

Cost: one harness batch per engine for the whole module (one DagBag child per
Airflow release, two Prefect children), about 20 s.
"""

from __future__ import annotations

import textwrap

import pytest
from conftest import ROOT

from wfconv.backends import backend
from wfconv.engines.checks import FAIL, PASS, UNVERIFIED
from wfconv.engines.harness import Job, run_harness
from wfconv.frontends import load_path
from wfconv.verify.roundtrip import round_trip

pytestmark = pytest.mark.engine

# An Airflow 2 DAG with an interval schedule, an owner, a pool and a command
# rendered from the data interval: what Airflow 3 changes if nothing is kept.
HOURLY = textwrap.dedent(
    """
    from datetime import datetime, timedelta

    from airflow import DAG
    from airflow.operators.bash import BashOperator

    with DAG(
        dag_id="rollup",
        schedule=timedelta(hours=6),
        start_date=datetime(2024, 3, 1),
        catchup=True,
        default_args={"owner": "analytics", "retries": 2},
    ) as dag:
        BashOperator(
            task_id="roll",
            bash_command="rollup --from '{{ data_interval_start }}' --to '{{ data_interval_end }}'",
            pool="warehouse",
        )
    """
)


# An Airflow 2 DAG run every minute since 2021: its first run starts at
# 00:01 (the end of the first interval). Prefect plans an every-minute RRULE
# from 2021 too slowly to use, so the output is a cron without a start (BP202).
EVERY_MINUTE = textwrap.dedent(
    """
    from datetime import datetime

    from airflow import DAG
    from airflow.operators.empty import EmptyOperator

    with DAG(dag_id="minutely", schedule="*/1 * * * *", start_date=datetime(2021, 1, 1)) as dag:
        EmptyOperator(task_id="tick")
    """
)


# An Airflow 3 DAG that does not import the task SDK: the reader decides
# Airflow 3 from its imports (the standard provider), so its runs are planned
# by Airflow 3.3.2, where it loads (Airflow 2.10.5 has no standard provider).
# Its trigger dates the child's run with a template.
ONCE3 = textwrap.dedent(
    """
    from datetime import datetime

    from airflow import DAG
    from airflow.providers.standard.operators.bash import BashOperator
    from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator

    with DAG(dag_id="once3", schedule="@once", start_date=datetime(2024, 3, 1)) as dag:
        hello = BashOperator(task_id="hello", bash_command="echo hello")
        kick = TriggerDagRunOperator(
            task_id="kick",
            trigger_dag_id="child",
            logical_date="{{ logical_date }}",
            reset_dag_run=True,
            poke_interval=5,
        )
        hello >> kick
    """
)


def _job(w, target, **options):
    rt = round_trip(w, target, **options)
    return Job(w, target, rt.emitted.files, rt.ledger, rt.id_map, options.get("airflow_version", 3))


def _check(job, name):
    found = [c for c in job.checks if c.name == name]
    assert found, [c.name for c in job.checks]
    return found[0]


@pytest.fixture(scope="module")
def airflow_jobs(tmp_path_factory, airflow3_python, airflow2_python):
    """One batch: etl_basic and the hourly rollup, to Airflow 3 and to Airflow 2,
    and an Airflow 3 output broken on purpose."""
    src = tmp_path_factory.mktemp("src") / "rollup.py"
    src.write_text(HOURLY, encoding="utf-8")
    rollup = load_path(str(src), "airflow").workflows[0]
    src3 = src.parent / "once3.py"
    src3.write_text(ONCE3, encoding="utf-8")
    once3 = load_path(str(src3), "airflow").workflows[0]
    etl = load_path(ROOT / "corpus/airflow/etl_basic.py", "airflow").workflows[0]
    broken = _job(etl, "airflow")
    broken.files = {
        k: v.replace("from airflow.sdk import DAG", "from airflow.sdk import DAGG")
        for k, v in broken.files.items()
    }
    bare = _job(etl, "airflow")
    bare.files = {
        k: v.replace('CronDataIntervalTimetable("0 6 * * *", timezone="UTC")', '"0 6 * * *"')
        for k, v in bare.files.items()
    }
    assert bare.files != _job(etl, "airflow").files, "the backend's timetable changed: update"
    jobs = {
        "etl3": _job(etl, "airflow"),
        "bare3": bare,
        "rollup3": _job(rollup, "airflow"),
        "rollup2": _job(rollup, "airflow", airflow_version=2),
        "broken": broken,
        "once3": _job(once3, "airflow"),
    }
    run_harness(list(jobs.values()))
    return jobs


def test_loads_in_real_airflow_3_and_2(airflow_jobs):
    for key in ("etl3", "rollup3", "rollup2"):
        assert _check(airflow_jobs[key], "loads").status == PASS, airflow_jobs[key].checks
    assert _check(airflow_jobs["rollup2"], "loads").engine == "airflow 2.10.5"
    bad = _check(airflow_jobs["broken"], "loads")
    assert bad.status == FAIL and "DAGG" in " ".join(bad.details)


def test_the_source_is_planned_by_the_airflow_the_reader_decided(airflow_jobs):
    assert airflow_jobs["once3"].workflow.extra["airflow"]["source_version"] == "3"
    time = _check(airflow_jobs["once3"], "time")
    assert time.status == PASS, time.details
    # the source's runs come from the Airflow it was read for
    assert any("OnceTimetable in airflow 3.3.2" in d for d in time.details), time.details


def test_a_triggered_run_is_dated_as_the_source_dates_it(airflow_jobs):
    """TriggerDagRunOperator's logical_date (and how it waits) are kept: the
    engines render the same templated values on both sides."""
    payload = _check(airflow_jobs["once3"], "payload")
    assert payload.status == PASS, payload.details
    (text,) = airflow_jobs["once3"].files.values()
    assert 'logical_date="{{ logical_date }}"' in text
    assert "reset_dag_run=True" in text and "poke_interval=5" in text


def test_time_compares_the_real_timetables_of_both_releases(airflow_jobs):
    """The Airflow 2 source's runs come from Airflow 2.10.5's timetable, the
    output's from the target's. A bare cron in Airflow 3 is a trigger
    timetable: every run one period earlier, which the check shows; the
    conversion as emitted keeps the data interval."""
    bare = _check(airflow_jobs["bare3"], "time")
    assert bare.status == FAIL
    assert (
        "CronTriggerTimetable against CronDataIntervalTimetable in airflow 2.10.5"
        in bare.details[0]
    )
    assert (
        "run 1: run_after 2024-01-02T06:00:00+00:00 in the source, "
        "2024-01-01T06:00:00+00:00 after conversion" in bare.details
    )
    assert _check(airflow_jobs["etl3"], "time").status == PASS
    # the same DAG for Airflow 2 keeps Airflow 2's timetable: the same runs
    assert _check(airflow_jobs["rollup2"], "time").status == PASS


def test_payloads_are_rendered_by_the_engines_and_compared_as_argv(airflow_jobs):
    etl = _check(airflow_jobs["bare3"], "payload")
    # prev_ds is gone in Airflow 3: the backend writes it in Airflow 3's terms
    # (BA129), which Airflow 3 renders as Airflow 2 rendered prev_ds
    assert etl.status == PASS, etl.details
    assert _check(airflow_jobs["rollup2"], "payload").status == PASS


def test_structure_is_read_from_the_engines_objects(airflow_jobs):
    rollup3 = _check(airflow_jobs["rollup3"], "structure")
    assert rollup3.details[0] == "compared with airflow 2.10.5"
    owner_lost = [d for d in rollup3.details if "owner" in d]
    # The backend either keeps the owner, or the check names the loss.
    assert rollup3.status == PASS or owner_lost, rollup3.details


def test_verdict_is_never_equivalent_when_an_engine_check_fails():
    """verify with --engine on a conversion whose output does not load."""
    from wfconv.engines.checks import Check
    from wfconv.verify import VerifyReport

    report = VerifyReport("x", "airflow", [])
    report.engines_consulted = True
    report.checks = [Check("loads", "airflow 3.3.2", FAIL, ["x.py: ImportError"])]
    assert not report.equivalent and report.verdict_text() == "DIFFERS"
    report.checks = [
        Check("loads", "oozie schemas", PASS),
        Check("time", "oozie", UNVERIFIED, ["no server"]),
    ]
    assert report.equivalent
    assert report.verdict_text() == "EQUIVALENT (unverified: time in oozie)"


@pytest.fixture(scope="module")
def python_jobs(airflow2_python, tmp_path_factory):
    etl = load_path(ROOT / "corpus/airflow/etl_basic.py", "airflow").workflows[0]
    coord = load_path(ROOT / "corpus/oozie/coord_app", "oozie").workflows[0]
    broken = _job(etl, "prefect")
    broken.files = {k: v + "\nraise ImportError('boom')\n" for k, v in broken.files.items()}
    late = _job(etl, "prefect")
    late.files = {k: v.replace("T060000", "T070000") for k, v in late.files.items()}
    assert late.files != _job(etl, "prefect").files, "the backend's schedule changed: update"
    hourly = next(
        w
        for w in load_path(ROOT / "corpus/prefect/subflows.py", "prefect").workflows
        if w.id == "prepare-data"
    )
    shifted = _job(hourly, "prefect")
    shifted.files = {k: v.replace("T001500", "T002000") for k, v in shifted.files.items()}
    assert shifted.files != _job(hourly, "prefect").files, "the backend's schedule changed: update"
    late_luigi = _job(etl, "luigi")
    late_luigi.files = {
        k: v.replace("    at_hour = 6\n", "    at_hour = 7\n").replace(
            "--date {{ ds }}", "--date {{ ds_nodash }}"
        )
        for k, v in late_luigi.files.items()
    }
    assert late_luigi.files != _job(etl, "luigi").files, "the backend's dates changed: update"
    src = tmp_path_factory.mktemp("src") / "minutely.py"
    src.write_text(EVERY_MINUTE, encoding="utf-8")
    minutely = load_path(str(src), "airflow").workflows[0]
    every_other = _job(minutely, "prefect")
    every_other.files = {
        k: v.replace("*/1 * * * *", "*/2 * * * *") for k, v in every_other.files.items()
    }
    assert every_other.files != _job(minutely, "prefect").files, (
        "the backend's cron changed: update"
    )
    jobs = {
        "minutely_prefect": _job(minutely, "prefect"),
        "every_other_prefect": every_other,
        "etl_prefect": _job(etl, "prefect"),
        "late_prefect": late,
        "hourly_prefect": _job(hourly, "prefect"),
        "shifted_prefect": shifted,
        "coord_prefect": _job(coord, "prefect"),
        "broken_prefect": broken,
        "etl_luigi": _job(etl, "luigi"),
        "late_luigi": late_luigi,
    }
    run_harness(list(jobs.values()))
    return jobs


def test_prefect_loads_and_its_own_schedule_plans_the_runs(python_jobs):
    etl = python_jobs["etl_prefect"]
    assert _check(etl, "loads").status == PASS
    # Prefect starts a run at the tick: the schedule emitted starts each run when
    # the Airflow 2 source's would; one an hour late is a difference
    assert _check(etl, "time").status == PASS
    late = _check(python_jobs["late_prefect"], "time")
    assert late.status == FAIL
    assert (
        "run 1: run_after 2024-01-02T06:00:00+00:00 in the source, 2024-01-02T07:00:00+00:00 after conversion"
        in late.details
    ), late.details
    # an Oozie coordinator's nominal times are Prefect's ticks
    assert _check(python_jobs["coord_prefect"], "time").status == PASS
    bad = _check(python_jobs["broken_prefect"], "loads")
    assert bad.status == FAIL and "boom" in bad.details[0]


def test_a_start_less_prefect_schedule_is_planned_from_the_sources_first_run(python_jobs):
    """The every-minute cron cannot say the start (BP202): planned from the
    start date, Prefect would tick at 00:00, which Airflow 2 never runs; from
    the source's first run (00:01) the ticks are the source's. A cron that
    ticks every other minute still differs."""
    job = python_jobs["minutely_prefect"]
    assert any(d.code == "BP202" for d in job.ledger)
    time = _check(job, "time")
    assert time.status == PASS, time.details
    assert "planned from the source's first run: BP202" in time.details[0]
    other = _check(python_jobs["every_other_prefect"], "time")
    assert other.status == FAIL, other.details


def test_a_prefect_sources_runs_come_from_its_own_deployment_in_prefect(python_jobs):
    # subflows.py's __main__ block deploys prepare-data every hour from 00:15:
    # Prefect's own schedule of the source is the reference, not wfconv's model
    same = _check(python_jobs["hourly_prefect"], "time")
    assert same.status == PASS, same.details
    assert same.details[0].startswith("run start times against the source's deployment schedules")
    shifted = _check(python_jobs["shifted_prefect"], "time")
    assert shifted.status == FAIL
    assert (
        "run 1: run_after 2024-01-01T00:15:00+00:00 in the source, 2024-01-01T00:20:00+00:00 after conversion"
        in shifted.details
    ), shifted.details


def test_prefect_commands_are_built_per_scheduled_date(python_jobs):
    payload = _check(python_jobs["etl_prefect"], "payload")
    assert "9 shell command(s) compared over 3 scheduled run(s)" in payload.details[0]
    # each task called with what the flow gives it for that date: prev_ds is
    # the previous tick, as in the source (it rendered empty once)
    assert payload.status == PASS, payload.details + payload.explained
    assert not any("--since" in d for d in payload.details + payload.explained)


def test_luigi_loads_and_gives_its_task_graph(python_jobs):
    etl = python_jobs["etl_luigi"]
    assert _check(etl, "loads").status == PASS
    assert _check(etl, "structure").status == PASS


def test_luigi_range_task_plans_the_source_runs_and_their_commands(python_jobs):
    # RangeDaily's first days, as the root task's logical date and data
    # interval, are the Airflow 2.10.5 source's first runs
    time = _check(python_jobs["etl_luigi"], "time")
    assert time.status == PASS, time.details
    assert "Luigi's range task schedules against" in time.details[0]
    late = _check(python_jobs["late_luigi"], "time")
    assert late.status == FAIL
    assert (
        "run 1: logical_date 2024-01-01T06:00:00+00:00 in the source, "
        "2024-01-01T07:00:00+00:00 after conversion" in late.details
    ), late.details
    # the commands the shell tasks' run() would start, per scheduled day;
    # prev_ds stays a literal (BL403 says so)
    payload = _check(python_jobs["etl_luigi"], "payload")
    assert payload.status == PASS, payload.details
    assert payload.details[0] == "9 shell command(s) compared over 3 scheduled run(s)"
    assert any("'--since', '{{', 'prev_ds', '}}'] after conversion" in d for d in payload.explained)
    # a command that changed is not explained by a loss about something else
    # (every task's owner is dropped in Luigi: BL501)
    changed = _check(python_jobs["late_luigi"], "payload")
    assert changed.status == FAIL
    assert any("'--date', '20240101', '--out'" in d for d in changed.details), changed.details


def test_oozie_xml_is_validated_against_oozies_schemas():
    from wfconv.engines import oozie

    w = load_path(ROOT / "corpus/oozie/coord_app", "oozie").workflows[0]
    files = backend("oozie").emit(w).files
    assert oozie.validate(files) == ([], 2)
    wf = files["workflow.xml"]
    broken = wf.replace("<ok ", "<okay ", 1)
    problems, _ = oozie.validate({"workflow.xml": broken})
    assert problems and "okay" in problems[0]
    # an action body is checked against its own namespace's schema
    shell = wf.replace("<exec>", "<exe>", 1) if "<exec>" in wf else None
    if shell:
        assert oozie.validate({"workflow.xml": shell})[0]
    # a coordinator without its required frequency
    coord = files["coordinator.xml"]
    import re

    assert oozie.validate({"coordinator.xml": re.sub(r' frequency="[^"]*"', "", coord, count=1)})[0]


def test_complete_check_finds_stubs_placeholders_and_source_engine_imports():
    from wfconv.verify.complete import scan_python

    code = textwrap.dedent(
        '''
        import luigi


        def stub(ds):
            """Replace me."""
            raise NotImplementedError("wfconv: callable was not converted")


        CMD = "echo 'wfconv: java (task x) has no Prefect equivalent; replace this placeholder' >&2; exit 1"
        '''
    )
    found = scan_python("flow.py", code, "prefect")
    assert any("imports luigi" in f for f in found)
    assert any("stub stub() raises NotImplementedError" in f for f in found)
    assert any("placeholder command" in f for f in found)
    assert scan_python("flow.py", "import prefect\n", "prefect") == []


def _ours(tmp) -> list[int]:
    """Live processes started with TMPDIR=tmp (wfconv and everything below it,
    including a server that escaped to init)."""
    import os

    mark = f"TMPDIR={tmp}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as fh:
                if mark in fh.read().split(b"\0"):
                    with open(f"/proc/{entry}/stat") as st:
                        if st.read().rsplit(")", 1)[1].split()[0] not in "ZX":
                            found.append(int(entry))
        except OSError:
            continue
    return found


@pytest.mark.slow
def test_prefect_server_is_owned_quiet_and_stopped(tmp_path):
    """`wfconv verify --to prefect --engine | tail` ends (nothing keeps the pipe
    open), prints nothing of Prefect's on stderr, and leaves no process behind;
    Ctrl-C in the middle of a run leaves none either."""
    import os
    import signal
    import subprocess
    import sys
    import time

    env = {**os.environ, "TMPDIR": str(tmp_path)}
    env.pop("PREFECT_API_URL", None)
    from pathlib import Path

    cmd = [
        str(Path(sys.executable).parent / "wfconv"),
        "verify",
        str(ROOT / "corpus/prefect/fanout_submit.py"),
        "--to",
        "prefect",
        "--engine",
        "--engine-scenarios",
        "smoke",
    ]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode in (0, 1), done.stderr
    assert "behaviour" in done.stdout and "in prefect" in done.stdout
    assert done.stderr == ""
    assert _ours(tmp_path) == []

    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    server = []
    while time.monotonic() < deadline and not server and p.poll() is None:
        server = [
            pid for pid in _ours(tmp_path) if b"server" in open(f"/proc/{pid}/cmdline", "rb").read()
        ]
        time.sleep(0.2)
    assert server, "the Prefect server never started"
    p.send_signal(signal.SIGINT)
    p.communicate(timeout=60)
    time.sleep(1)
    assert _ours(tmp_path) == []


@pytest.mark.slow
def test_one_airflow_child_runs_the_probes_of_many_dags(airflow3_python):
    """Behaviour in Airflow: two children share every DAG of a batch, and each
    DAG after the first still runs (dag.test() syncs the DAG's own folder)."""
    from wfconv.ir import Action, Edge, Task, Workflow, finalize
    from wfconv.verify.engine import engine_checks

    def pair(name):
        return finalize(
            Workflow(
                id=name,
                tasks=[
                    Task("a", Action("shell", {"command": "true"})),
                    Task("b", Action("shell", {"command": "true"})),
                ],
                edges=[Edge("a", "b")],
            )
        )

    results = engine_checks([pair(f"p{i}") for i in range(4)], "airflow", "smoke")
    assert [len(v) for v, _ in results] == [1, 1, 1, 1], results
    assert all(x.equivalent for v, _ in results for x in v), results
