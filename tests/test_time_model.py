"""The schedule's time model: what readers record, what writers emit, what the runtime plans.

The engines' own word on these constructs is in tests/test_time_airflow_engines.py
and tests/test_time_oozie_engines.py; these tests pin the IR and the emitted code.
"""

from __future__ import annotations

import json
import shlex
import textwrap
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from wfconv.backends import airflow as airflow_backend
from wfconv.backends import oozie as oozie_backend
from wfconv.backends import prefect as prefect_backend
from wfconv.cli import main
from wfconv.errors import InputError
from wfconv.frontends import airflow, load
from wfconv.ir.jsonio import dumps, loads
from wfconv.ir.model import Action, Schedule, Task, Workflow
from wfconv.runtime import RunOptions, plan_runs

AIRFLOW2 = "from airflow import DAG\nfrom airflow.operators.bash import BashOperator\n"
AIRFLOW3 = "from airflow.sdk import DAG\nfrom airflow.providers.standard.operators.bash import BashOperator\n"
NEUTRAL = "from airflow import DAG\n"


def read(head: str, dag_args: str, **options) -> Workflow:
    src = (
        "from datetime import datetime, timedelta\n"
        + head
        + f'with DAG("d", start_date=datetime(2024, 3, 1), {dag_args}):\n    pass\n'
    )
    (w,) = airflow.parse("dags/d.py", src, **options).workflows
    return w


def codes(w: Workflow) -> dict[str, str]:
    return {d.code: d.severity for d in w.diagnostics}


def utc(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=UTC)


# -- which Airflow a file is written for ---------------------------------------


@pytest.mark.parametrize(
    "head, args, model, severity",
    [
        (AIRFLOW2, 'schedule="0 6 * * *"', "data_interval", "info"),
        (AIRFLOW3, 'schedule="0 6 * * *"', "trigger", "info"),
        (NEUTRAL, 'schedule_interval="@daily"', "data_interval", "info"),  # removed in 3
        (
            NEUTRAL + "from airflow.utils.dates import days_ago\n",
            "schedule=timedelta(hours=1)",
            "data_interval",
            "info",
        ),
        (NEUTRAL, 'schedule="@daily"', "data_interval", "warning"),  # nothing tells: assumed 2
        # written for both versions: no evidence either way
        (
            "try:\n    from airflow.sdk import DAG\nexcept ImportError:\n    from airflow import DAG\n",
            'schedule="@daily"',
            "data_interval",
            "warning",
        ),
    ],
)
def test_a_bare_schedule_means_what_the_files_version_means(head, args, model, severity):
    w = read(head, args)
    assert w.schedule.model == model
    assert codes(w)["AF214" if severity == "info" else "AF215"] == severity
    assert w.extra["airflow"]["source_version"] == ("2" if model == "data_interval" else "3")


def test_the_option_decides_only_where_the_file_does_not():
    assert (
        read(NEUTRAL, 'schedule="@daily"', airflow_source_version="3").schedule.model == "trigger"
    )
    assert codes(read(NEUTRAL, 'schedule="@daily"', airflow_source_version="3"))["AF214"] == "info"
    # hard evidence wins over the option (schedule_interval cannot be Airflow 3)
    w = read(NEUTRAL, 'schedule_interval="@daily"', airflow_source_version="3")
    assert w.schedule.model == "data_interval"


def test_the_cli_option_reaches_the_reader(tmp_path):
    f = tmp_path / "d.py"
    f.write_text(
        "from datetime import datetime\n"
        + NEUTRAL
        + 'with DAG("d", schedule="@daily", start_date=datetime(2024, 1, 1)):\n    pass\n'
    )
    runner = CliRunner()
    for option, model in (([], "data_interval"), (["--airflow-source-version", "3"], "trigger")):
        r = runner.invoke(main, ["parse", *option, str(f)])
        assert r.exit_code == 0, r.output
        assert json.loads(r.stdout)["workflows"][0]["schedule"]["model"] == model


def test_no_schedule_is_daily_in_airflow2_and_none_in_airflow3():
    two = read(AIRFLOW2, 'description="x"')
    assert (two.schedule.kind, two.schedule.seconds, two.schedule.model) == (
        "interval",
        86400.0,
        "data_interval",
    )
    assert codes(two)["AF217"] == "info"
    three = read(AIRFLOW3, 'description="x"')
    assert (three.schedule.kind, three.schedule.model) == ("manual", "trigger")


@pytest.mark.parametrize(
    "timetable, kind, detail, model, interval_s, tz",
    [
        (
            'CronDataIntervalTimetable("@daily", timezone="Europe/Paris")',
            "cron",
            "0 0 * * *",
            "data_interval",
            None,
            "Europe/Paris",
        ),
        (
            "DeltaDataIntervalTimetable(timedelta(hours=2))",
            "interval",
            7200.0,
            "data_interval",
            None,
            "UTC",
        ),
        (
            'CronTriggerTimetable("0 6 * * *", timezone="UTC", interval=timedelta(hours=1))',
            "cron",
            "0 6 * * *",
            "trigger",
            3600.0,
            "UTC",
        ),
        (
            "DeltaTriggerTimetable(timedelta(minutes=30))",
            "interval",
            1800.0,
            "trigger",
            None,
            "UTC",
        ),
        (
            'MultipleCronTriggerTimetable("0 6 * * *", timezone="UTC")',
            "cron",
            "0 6 * * *",
            "trigger",
            None,
            "UTC",
        ),
    ],
)
def test_an_explicit_timetable_says_its_own_model_in_either_version(
    timetable, kind, detail, model, interval_s, tz
):
    for head in (AIRFLOW2, AIRFLOW3):
        imports = head + (
            "from airflow.timetables.interval import CronDataIntervalTimetable, DeltaDataIntervalTimetable\n"
            "from airflow.timetables.trigger import CronTriggerTimetable, DeltaTriggerTimetable, "
            "MultipleCronTriggerTimetable\n"
        )
        s = read(imports, f"schedule={timetable}").schedule
        assert (s.kind, s.cron or s.seconds, s.model, s.interval_s, s.timezone) == (
            kind,
            detail,
            model,
            interval_s,
            tz,
        )


def test_timetables_the_ir_cannot_hold_are_warnings():
    w = read(
        AIRFLOW3 + "from airflow.sdk import MultipleCronTriggerTimetable\n",
        'schedule=MultipleCronTriggerTimetable("0 6 * * *", "0 18 * * *", timezone="UTC")',
    )
    assert w.schedule.cron == "0 6 * * *" and codes(w)["AF216"] == "warning"
    w = read(AIRFLOW3 + "from plugins.tt import WorkdayTimetable\n", "schedule=WorkdayTimetable()")
    assert w.schedule.kind == "manual" and codes(w)["AF216"] == "warning"
    assert w.extra["airflow"]["timetable"]


# -- the IR ------------------------------------------------------------------------


def test_model_and_interval_round_trip_and_old_files_mean_data_intervals():
    w = Workflow(
        "w", schedule=Schedule("cron", cron="0 6 * * *", model="trigger", interval_s=3600.0)
    )
    text = dumps(load_bundle([w]))
    assert '"model": "trigger"' in text and '"interval_s": 3600.0' in text
    (back,) = loads(text).workflows
    assert (back.schedule.model, back.schedule.interval_s) == ("trigger", 3600.0)
    old = json.loads(text)
    del old["workflows"][0]["schedule"]["model"], old["workflows"][0]["schedule"]["interval_s"]
    (legacy,) = loads(json.dumps(old)).workflows
    assert legacy.schedule.model is None and legacy.schedule.time_model == "data_interval"


def test_a_data_interval_schedule_cannot_have_a_trigger_interval():
    doc = json.loads(dumps(load_bundle([Workflow("w")])))
    doc["workflows"][0]["schedule"] = {
        "kind": "cron",
        "cron": "0 6 * * *",
        "model": "data_interval",
        "interval_s": 60,
    }
    with pytest.raises(InputError):
        loads(json.dumps(doc))


def load_bundle(workflows):
    from wfconv.ir.model import Bundle

    return Bundle(workflows=workflows)


# -- the reference runtime -----------------------------------------------------------


def daily(model: str | None, interval_s: float | None = None) -> Workflow:
    return Workflow(
        "w",
        schedule=Schedule("cron", cron="0 6 * * *", model=model, interval_s=interval_s),
        start_date="2024-03-01T00:00:00+00:00",
        catchup=True,
        tasks=[Task("a", Action("empty"))],
    )


def times(runs):
    return [(r.run_after, r.logical_date, r.data_interval_start, r.data_interval_end) for r in runs]


def test_runs_follow_the_workflows_own_model():
    now = RunOptions(now="2024-03-02T12:00:00+00:00")
    assert times(plan_runs(daily("data_interval"), now)) == [
        (utc(2024, 3, 2, 6), utc(2024, 3, 1, 6), utc(2024, 3, 1, 6), utc(2024, 3, 2, 6))
    ]
    assert times(plan_runs(daily("trigger"), now)) == [
        (utc(2024, 3, d, 6), utc(2024, 3, d, 6), utc(2024, 3, d, 6), utc(2024, 3, d, 6))
        for d in (1, 2)
    ]
    # A trigger timetable's interval ends at the tick; the logical date is its start.
    assert times(plan_runs(daily("trigger", 3600.0), now))[0] == (
        utc(2024, 3, 1, 6),
        utc(2024, 3, 1, 5),
        utc(2024, 3, 1, 5),
        utc(2024, 3, 1, 6),
    )
    # an old IR file (no model) keeps the data-interval meaning it had
    assert times(plan_runs(daily(None), now)) == times(plan_runs(daily("data_interval"), now))
    # ... unless asked otherwise
    asked = RunOptions(now="2024-03-02T12:00:00+00:00", timetable="trigger")
    assert len(plan_runs(daily("data_interval"), asked)) == 2


def test_wfconv_run_predicts_the_source_engine_by_default(tmp_path):
    ir = tmp_path / "w.json"
    w = daily("trigger")
    w.tasks = [Task("a", Action("shell", {"command": "echo {{ ds }}"}))]
    ir.write_text(dumps(load_bundle([w])))
    r = CliRunner().invoke(
        main, ["run", str(ir), "--now", "2024-03-02T12:00:00+00:00", "--no-db", "--format", "json"]
    )
    assert r.exit_code == 0, r.output
    runs = json.loads(r.stdout)["runs"]
    # the trigger model: a run at each tick, seeing it (Airflow 2 would run once, on 2 March)
    assert [(x["start"], x["logical_date"]) for x in runs] == [
        (f"2024-03-0{d}T06:00:00+00:00", f"2024-03-0{d}T06:00:00+00:00") for d in (1, 2)
    ]


# -- writers -------------------------------------------------------------------------------


def emit_airflow(w: Workflow, version: int = 3) -> tuple[str, set[str]]:
    out = airflow_backend.emit(w, airflow_version=version)
    ((_, code),) = out.files.items()
    return code, {d.code for d in out.diagnostics}


@pytest.mark.parametrize(
    "schedule, version, construct",
    [
        (
            Schedule("cron", cron="0 6 * * *", model="data_interval"),
            3,
            'schedule=CronDataIntervalTimetable("0 6 * * *", timezone="UTC")',
        ),
        (Schedule("cron", cron="0 6 * * *", model="data_interval"), 2, 'schedule="0 6 * * *"'),
        (Schedule("cron", cron="0 6 * * *", model="trigger"), 3, 'schedule="0 6 * * *"'),
        (
            Schedule("cron", cron="0 6 * * *", model="trigger"),
            2,
            'schedule=CronTriggerTimetable("0 6 * * *", timezone="UTC")',
        ),
        (
            Schedule("cron", cron="0 6 * * *", model="trigger", interval_s=3600),
            3,
            'schedule=CronTriggerTimetable("0 6 * * *", timezone="UTC", interval=datetime.timedelta(seconds=3600))',
        ),
        (
            Schedule("interval", seconds=7200, model="data_interval"),
            3,
            "schedule=DeltaDataIntervalTimetable(datetime.timedelta(seconds=7200))",
        ),
        (
            Schedule("interval", seconds=7200, model="trigger"),
            3,
            "schedule=datetime.timedelta(seconds=7200)",
        ),
        # Airflow 2 has no DeltaTriggerTimetable: the same ticks as a cron from the start date
        (
            Schedule("interval", seconds=7200, model="trigger"),
            2,
            'schedule=CronTriggerTimetable("0 */2 * * *", timezone="UTC")',
        ),
        # a bare cron takes the DAG's timezone: written with the start date's tz
        (
            Schedule("cron", cron="0 6 * * *", model="trigger", timezone="Asia/Tokyo"),
            3,
            'schedule="0 6 * * *"',
        ),
    ],
)
def test_airflow_writer_keeps_the_time_model(schedule, version, construct):
    w = Workflow(
        "w",
        schedule=schedule,
        start_date="2024-03-01T00:00:00+00:00",
        tasks=[Task("a", Action("empty"))],
    )
    code, found = emit_airflow(w, version)
    assert construct in code
    compile(code, "w.py", "exec")
    assert "BA207" not in found


def test_airflow_writer_writes_the_source_engines_catchup_default():
    two_to_three, _ = emit_airflow(daily_unset("data_interval"), 3)
    three_to_two, _ = emit_airflow(daily_unset("trigger"), 2)
    same, _ = emit_airflow(daily_unset("trigger"), 3)
    assert "catchup=True" in two_to_three and "catchup=False" in three_to_two
    assert "catchup" not in same


def daily_unset(model: str) -> Workflow:
    w = daily(model)
    w.catchup = None
    return w


def test_an_unaligned_trigger_interval_on_airflow2_is_a_warning_and_keeps_the_run_starts():
    w = Workflow(
        "w",
        schedule=Schedule("interval", seconds=5 * 3600, model="trigger"),
        start_date="2024-03-01T01:00:00+00:00",
        end_date="2024-03-02T02:00:00+00:00",
        tasks=[Task("a", Action("empty"))],
    )
    out = airflow_backend.emit(w, airflow_version=2)
    ((_, code),) = out.files.items()
    (d,) = [d for d in out.diagnostics if d.code == "BA207"]
    assert d.severity == "warning"
    # data intervals ending at the ticks: the dates one interval earlier
    assert "schedule=datetime.timedelta(seconds=18000)" in code
    assert "start_date=pendulum.datetime(2024, 2, 29, 20" in code
    assert "end_date=pendulum.datetime(2024, 3, 1, 21" in code
    # ... unless the source's runs see that interval anyway: then it is exact
    w.schedule.interval_s = 5 * 3600
    assert "BA207" not in {d.code for d in airflow_backend.emit(w, airflow_version=2).diagnostics}


def coordinator(w: Workflow) -> tuple[str, str, dict[str, str]]:
    from lxml import etree

    out = oozie_backend.emit(w)
    root = etree.fromstring(out.files["coordinator.xml"].encode())
    ns = {"c": root.nsmap[None]}
    props = {
        p.findtext("c:name", namespaces=ns): p.findtext("c:value", namespaces=ns)
        for p in root.iterfind(".//c:property", ns)
    }
    return root.get("start"), root.get("end"), props


def test_oozie_writer_puts_the_nominal_time_at_each_runs_start():
    w = daily("data_interval")
    w.end_date = "2024-03-05T06:00:00+00:00"
    w.tasks = [Task("a", Action("shell", {"command": "run {{ ds }} {{ data_interval_end }}"}))]
    start, end, props = coordinator(w)
    # Airflow 2: the run for [X, next X) starts at next X
    assert (start, end) == ("2024-03-02T06:00Z", "2024-03-06T06:01Z")
    assert "coord:dateOffset(coord:nominalTime(), -1, 'DAY')" in props["ds"]
    w.schedule.model = "trigger"
    start, end, props = coordinator(w)
    assert (start, end) == ("2024-03-01T06:00Z", "2024-03-05T06:01Z")
    assert props["ds"] == "${coord:formatTime(coord:nominalTime(), 'yyyy-MM-dd')}"


def test_an_airflow2_schedule_written_for_oozie_reads_back_as_data_intervals(tmp_path):
    w = daily("data_interval")
    out = oozie_backend.emit(w)
    for name, text in out.files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    (back,) = load(str(tmp_path)).workflows
    assert (back.schedule.model, back.start_date) == ("data_interval", w.start_date)


def run_dates(w: Workflow):
    """The emitted wfconv_run_dates, on its own (the helper module's, for a cron)."""
    import datetime
    from zoneinfo import ZoneInfo

    from wfconv.backends.shipped.wfconv_prefect import cron_interval_dates

    ns = {"datetime": datetime, "ZoneInfo": ZoneInfo, "cron_interval_dates": cron_interval_dates}
    exec(prefect_backend.run_dates_source(w), ns)
    return ns["wfconv_run_dates"]


def test_prefect_runs_see_the_dates_of_the_sources_model():
    t = utc(2024, 3, 2, 6)
    assert run_dates(daily("trigger"))(t) == (t, t, t)
    prev = utc(2024, 3, 1, 6)
    assert run_dates(daily("data_interval"))(t) == (prev, prev, t)
    assert run_dates(daily("data_interval"))(prev, True) == (prev, prev, t)  # backfill
    hourly = Workflow("w", schedule=Schedule("interval", seconds=3600, model="data_interval"))
    assert run_dates(hourly)(t) == (utc(2024, 3, 2, 5), utc(2024, 3, 2, 5), t)
    assert run_dates(daily("trigger", 1800))(t) == (
        utc(2024, 3, 2, 5, 30),
        utc(2024, 3, 2, 5, 30),
        t,
    )


def test_prefect_deployment_starts_at_the_first_runs_start(tmp_path):
    code = next(iter(prefect_backend.emit(daily("data_interval")).files.values()))
    assert "DTSTART:20240302T060000" in code  # Airflow 2's first run starts at 2 March 06:00
    path = tmp_path / "w.py"
    path.write_text(code)
    (back,) = load(str(path)).workflows
    assert (back.schedule.model, back.start_date) == ("data_interval", "2024-03-01T06:00:00+00:00")


# -- commands and owners -------------------------------------------------------------


def test_a_templated_property_of_a_hadoop_command_renders_without_quotes():
    import jinja2

    w = Workflow(
        "w",
        tasks=[
            Task(
                "mr",
                Action(
                    "hadoop",
                    {"engine": "map-reduce", "properties": {"mapred.output.dir": "/data/{{ ds }}"}},
                ),
            )
        ],
    )
    code, _ = emit_airflow(w)
    command = next(line for line in code.splitlines() if "bash_command=" in line)
    template = eval(command.split("bash_command=", 1)[1].rstrip(","))
    words = shlex.split(jinja2.Template(template).render(ds="2024-03-02"))
    assert "mapred.output.dir=/data/2024-03-02" in words


def test_owner_is_carried_to_airflow_and_ledgered_where_the_target_has_none():
    src = textwrap.dedent(
        """\
        from datetime import datetime
        from airflow import DAG
        from airflow.operators.bash import BashOperator

        with DAG("d", start_date=datetime(2024, 1, 1), default_args={"owner": "data-eng"}):
            BashOperator(task_id="a", bash_command="true")
            BashOperator(task_id="b", bash_command="true", owner="ops")
        """
    )
    (w,) = airflow.parse("dags/d.py", src).workflows
    assert [t.owner for t in w.tasks] == ["data-eng", "ops"]
    code, _ = emit_airflow(w)
    assert 'owner="data-eng"' in code and 'owner="ops"' in code
    w.tasks[1].owner = "data-eng"
    code, _ = emit_airflow(w)
    assert 'default_args={"owner": "data-eng"}' in code and "owner=" not in code.replace(
        'default_args={"owner"', ""
    )
    for backend, code_ in ((prefect_backend, "BP117"), (oozie_backend, "BO701")):
        ledger = [d for d in backend.emit(w).diagnostics if "owner" in d.message]
        assert {(d.code, d.severity) for d in ledger} == {(code_, "warning")}
