"""`wfconv upgrade`: what it writes for each Airflow 3 change, what it keeps,
what it reports, and the command line. The proof in the real engines is
tests/test_upgrade_engine.py."""

from __future__ import annotations

import datetime
import io
import os
import textwrap
import tokenize
from pathlib import Path

import pytest
from click.testing import CliRunner

from wfconv.cli import main
from wfconv.errors import InputError
from wfconv.frontends import detect_engine
from wfconv.upgrade import Options, diff, upgrade_text
from wfconv.upgrade.codes import CODES, markdown_table
from wfconv.upgrade.moves import move_of

ROOT = Path(__file__).resolve().parent.parent
TODAY = datetime.date(2026, 1, 10)
CORPUS = [
    *sorted((ROOT / "corpus" / "airflow").glob("*.py")),
    *sorted((ROOT / "corpus" / "audit").glob("*.py")),
    *sorted((ROOT / "corpus" / "upgrade").glob("*.py")),
]


def up(src: str, **opts):
    r = upgrade_text("dag.py", textwrap.dedent(src).lstrip(), Options(today=TODAY, **opts))
    return r.new, [f.code for f in r.findings]


def codes_of(src: str, **opts) -> list[str]:
    return up(src, **opts)[1]


# -- imports -------------------------------------------------------------------------


def test_moved_imports_keep_their_names_and_renamed_ones_rename_their_uses():
    new, codes = up(
        """
        from airflow.operators.bash import BashOperator
        from airflow.operators.dummy import DummyOperator
        from airflow.models import DAG, DagRun
        from airflow.datasets import Dataset as DS
        from airflow.contrib.operators.ssh_operator import SSHOperator

        t = DummyOperator(task_id="a")
        u = DummyOperator
        """
    )
    assert "from airflow.providers.standard.operators.bash import BashOperator\n" in new
    assert "from airflow.providers.standard.operators.empty import EmptyOperator\n" in new
    assert 't = EmptyOperator(task_id="a")' in new and "u = EmptyOperator" in new
    assert "from airflow.sdk import DAG\nfrom airflow.models import DagRun\n" in new
    assert "from airflow.sdk import Asset as DS\n" in new
    assert "from airflow.providers.ssh.operators.ssh import SSHOperator\n" in new
    assert codes.count("UG102") == 2 and "UG101" in codes


def test_imports_guarded_by_import_error_are_left_alone():
    src = """
    try:
        from airflow.providers.standard.operators.bash import BashOperator
    except ImportError:
        from airflow.operators.bash import BashOperator
    """
    assert up(src)[0] == textwrap.dedent(src).lstrip()


def test_removed_names_are_reported_and_kept():
    new, codes = up("from airflow.utils.dates import date_range\n")
    assert new == "from airflow.utils.dates import date_range\n"
    assert codes == ["UG103"]


@pytest.mark.parametrize(
    ("module", "name", "target"),
    [
        (
            "airflow.operators.python_operator",
            "PythonOperator",
            ("airflow.providers.standard.operators.python", "PythonOperator"),
        ),
        ("airflow.operators.python", "get_current_context", ("airflow.sdk", "get_current_context")),
        ("airflow.hooks.base_hook", "BaseHook", ("airflow.sdk", "BaseHook")),
        (
            "airflow.sensors.time_sensor",
            "TimeSensor",
            ("airflow.providers.standard.sensors.time", "TimeSensor"),
        ),
        (
            "airflow.operators.email",
            "EmailOperator",
            ("airflow.providers.smtp.operators.smtp", "EmailOperator"),
        ),
        ("airflow.providers.postgres.operators.postgres", "PostgresOperator", None),
    ],
)
def test_move_table(module, name, target):
    move = move_of(module, name)
    assert (None if move is None else (move.module, move.name)) == target


# -- the time model --------------------------------------------------------------------------


def test_cron_keeps_the_data_interval_model_in_the_start_dates_timezone():
    new, codes = up(
        """
        import pendulum
        from airflow import DAG

        with DAG("d", schedule_interval="0 6 * * *", start_date=pendulum.datetime(2024, 1, 1, tz="Europe/Paris")):
            pass
        """
    )
    assert 'schedule=CronDataIntervalTimetable("0 6 * * *", timezone="Europe/Paris"), ' in new
    assert "catchup=True" in new
    assert "from airflow.sdk import DAG, CronDataIntervalTimetable\n" in new
    assert codes == ["UG101", "UG201", "UG501", "UG504"]


def test_timedelta_and_missing_schedules_become_delta_data_interval_timetables():
    new, codes = up(
        """
        from datetime import datetime
        from airflow import DAG

        a = DAG("a", schedule=None, start_date=datetime(2024, 1, 1))
        b = DAG("b", start_date=datetime(2024, 1, 1))
        """
    )
    assert 'a = DAG("a", schedule=None, start_date=datetime(2024, 1, 1))' in new
    assert (
        'b = DAG("b", start_date=datetime(2024, 1, 1), '
        "schedule=DeltaDataIntervalTimetable(timedelta(days=1)), catchup=True)" in new
    )
    assert "from datetime import datetime, timedelta\n" in new  # joins the existing import
    assert codes == ["UG101", "UG503", "UG504"]


def test_a_factory_schedule_is_wrapped_when_every_dag_made_there_agrees():
    new, codes = up(
        """
        from datetime import datetime
        from airflow import DAG

        def build(name, schedule):
            return DAG(name, schedule=schedule, start_date=datetime(2024, 1, 1), catchup=False)

        a = build("a", "@hourly")
        b = build("b", "0 2 * * *")
        """
    )
    assert 'schedule=CronDataIntervalTimetable(schedule, timezone="UTC")' in new
    mixed = codes_of(
        """
        from datetime import datetime, timedelta
        from airflow import DAG

        def build(name, schedule):
            return DAG(name, schedule=schedule, start_date=datetime(2024, 1, 1), catchup=False)

        a = build("a", "@hourly")
        b = build("b", timedelta(hours=2))
        """
    )
    assert "UG505" in mixed


def test_dag_decorator_without_arguments_gets_them():
    new, _ = up(
        """
        from airflow.decorators import dag

        @dag
        def pipeline():
            pass

        pipeline()
        """
    )
    assert "@dag(schedule=DeltaDataIntervalTimetable(timedelta(days=1)), catchup=True)\n" in new


def test_kwargs_splat_is_reported_not_guessed():
    new, codes = up(
        """
        from airflow import DAG

        ARGS = {"dag_id": "x"}
        d = DAG(**ARGS)
        """
    )
    assert "d = DAG(**ARGS)" in new and codes.count("UG207") == 2


def test_files_written_for_airflow_3_keep_their_schedules():
    src = """
    import pendulum
    from airflow.sdk import DAG

    with DAG("d", schedule="@daily", start_date=pendulum.datetime(2024, 1, 1)):
        pass
    """
    assert up(src)[0] == textwrap.dedent(src).lstrip()


def test_trigger_mode_moves_the_start_and_the_dates():
    new, codes = up(
        """
        from datetime import datetime
        from airflow import DAG
        from airflow.operators.bash import BashOperator

        with DAG("d", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=True):
            BashOperator(task_id="t", bash_command="run {{ ds }} {{ ts }} {{ next_ds }}")
        """,
        timetable="trigger",
    )
    assert (
        'schedule=CronTriggerTimetable("@daily", timezone="UTC", interval=timedelta(days=1)), '
        "start_date=datetime(2024, 1, 1) + timedelta(days=1)" in new
    )
    assert (
        "run {{ data_interval_start | ds }} {{ data_interval_start | ts }} "
        "{{ data_interval_end | ds }}" in new
    )
    assert "UG506" in codes
    monthly = codes_of(
        """
        from datetime import datetime
        from airflow import DAG

        d = DAG("d", schedule="@monthly", start_date=datetime(2024, 1, 1))
        """,
        timetable="trigger",
    )
    assert "UG507" in monthly and "UG501" in monthly


# -- arguments and operators --------------------------------------------------------------------


def test_removed_arguments():
    new, codes = up(
        """
        from datetime import datetime, timedelta
        from airflow import DAG
        from airflow.operators.python import PythonOperator
        from airflow.operators.trigger_dagrun import TriggerDagRunOperator
        from airflow.utils.trigger_rule import TriggerRule

        with DAG("d", schedule=None, start_date=datetime(2024, 1, 1), concurrency=2,
                 default_view="graph", orientation="LR", sla_miss_callback=print, fail_stop=True):
            PythonOperator(task_id="p", python_callable=print, provide_context=True,
                           sla=timedelta(hours=1), task_concurrency=2, trigger_rule="dummy")
            TriggerDagRunOperator(task_id="t", trigger_dag_id="x", execution_date="{{ ds }}",
                                  trigger_rule=TriggerRule.NONE_FAILED_OR_SKIPPED)
        """
    )
    assert "start_date=datetime(2024, 1, 1), max_active_tasks=2,\n         fail_fast=True):" in new
    assert (
        'PythonOperator(task_id="p", python_callable=print, max_active_tis_per_dag=2, trigger_rule="always")'
        in new
    )
    assert 'logical_date="{{ ds }}"' in new
    assert "TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS" in new
    for code in ("UG203", "UG204", "UG205", "UG206", "UG304", "UG305", "UG306", "UG307", "UG308"):
        assert code in codes
    assert {CODES[c].kind for c in ("UG206", "UG304")} == {"lossy"}


def test_days_ago():
    new, codes = up(
        """
        from airflow import DAG
        from airflow.utils.dates import days_ago

        d = DAG("d", schedule=None, start_date=days_ago(2))
        cutoff = days_ago(7, hour=6)
        """
    )
    assert 'start_date=pendulum.datetime(2026, 1, 8, tz="UTC")' in new
    assert 'cutoff = pendulum.today("UTC").at(hour=6).add(days=-7)' in new
    assert "import pendulum\n" in new and "days_ago" not in new.split("\n\n")[0] + "import"
    assert "airflow.utils.dates" not in new
    assert codes.count("UG208") == 2


def test_subdag_factory_becomes_a_task_group():
    new, codes = up(
        """
        from datetime import datetime
        from airflow import DAG
        from airflow.operators.empty import EmptyOperator
        from airflow.operators.subdag import SubDagOperator

        ARGS = {"owner": "o"}

        def section(parent, child):
            sub = DAG("%s.%s" % (parent, child), default_args=ARGS, schedule_interval="@daily")
            EmptyOperator(task_id="inner", dag=sub)
            return sub

        dag = DAG("p", schedule=None, start_date=datetime(2024, 1, 1))
        s = SubDagOperator(task_id="s", subdag=section("p", "s"), dag=dag)
        """
    )
    assert "    sub = TaskGroup(child, default_args=ARGS)\n" in new
    assert 'EmptyOperator(task_id="inner", task_group=sub)' in new
    assert 'with dag:\n    s = section("p", "s")\n' in new
    assert "SubDagOperator" not in new
    assert "UG302" in codes and "UG303" not in codes
    unsafe = codes_of(
        """
        from airflow.operators.subdag import SubDagOperator
        from mylib import make_sub

        s = SubDagOperator(task_id="s", subdag=make_sub(), retries=2)
        """
    )
    assert "UG303" in unsafe and "UG103" in unsafe


# -- templates and context ---------------------------------------------------------------------------


def test_templates_follow_the_schedule_of_their_dag():
    new, codes = up(
        """
        from datetime import datetime, timedelta
        from airflow import DAG
        from airflow.operators.bash import BashOperator

        with DAG("a", schedule=timedelta(hours=6), start_date=datetime(2024, 1, 1)):
            BashOperator(task_id="t", bash_command="{{ prev_ds }} {{ execution_date }}")
        with DAG("b", schedule="@monthly", start_date=datetime(2024, 1, 1)):
            BashOperator(task_id="t", bash_command="{{ prev_ds }} {{ yesterday_ds }} {{ conf }}")
        """
    )
    assert "{{ (logical_date - macros.timedelta(hours=6)) | ds }} {{ logical_date }}" in new
    assert "{{ prev_ds }} {{ macros.ds_add(ds, -1) }} {{ conf }}" in new
    assert codes.count("UG402") == 2


def test_docstrings_are_not_templates():
    src = '''
    """Renders {{ execution_date }}."""
    from airflow import DAG

    d = DAG("d", schedule=None, doc_md="uses {{ execution_date }}")
    '''
    new, _ = up(src)
    assert new.count("{{ execution_date }}") == 2


def test_context_keys_in_python():
    new, codes = up(
        """
        from airflow import DAG
        from airflow.operators.python import PythonOperator

        def f(execution_date, ds, **kwargs):
            return kwargs["next_ds"], kwargs["yesterday_ds"], execution_date, kwargs.get("conf")

        with DAG("d", schedule="@daily"):
            PythonOperator(task_id="t", python_callable=f)
        """
    )
    assert "def f(logical_date, ds, **kwargs):" in new
    assert (
        'return kwargs["data_interval_end"].strftime("%Y-%m-%d"), kwargs["macros"].ds_add(ds, -1), '
        'logical_date, kwargs.get("conf")' in new
    )
    assert "UG403" in codes and "UG404" in codes


def test_a_callable_takes_the_schedule_of_the_dag_that_calls_it():
    new, codes = up(
        """
        from datetime import datetime
        from airflow import DAG
        from airflow.operators.python import PythonOperator

        def hourly(**context):
            return context["prev_ds"]

        def names(**context):
            return [context[k] for k in ("next_ds", "ds")]

        with DAG("a", schedule_interval="@daily", start_date=datetime(2024, 1, 1)):
            PythonOperator(task_id="n", python_callable=names)
        with DAG("b", schedule_interval="@hourly", start_date=datetime(2024, 1, 1)):
            PythonOperator(task_id="t", python_callable=hourly)
        """
    )
    assert (
        'return (context["logical_date"] - context["macros"].timedelta(hours=1))'
        '.strftime("%Y-%m-%d")' in new
    )
    # A key the code names but does not read as context["key"] is never silent.
    assert codes.count("UG404") == 1


def test_is_venv_installed_becomes_its_test():
    new, codes = up(
        """
        from airflow.operators.python import PythonOperator, is_venv_installed

        if is_venv_installed():
            pass
        """
    )
    assert 'if bool(shutil.which("virtualenv") or importlib.util.find_spec("virtualenv")):' in new
    assert "import shutil\n" in new and "import importlib.util\n" in new
    assert "is_venv_installed" not in new and "UG104" in codes


def test_parameters_a_caller_passes_are_not_renamed():
    src = """
    from airflow import DAG
    from airflow.operators.python import PythonOperator

    def f(execution_date):
        return execution_date

    with DAG("d", schedule=None):
        PythonOperator(task_id="t", python_callable=f, op_kwargs={"execution_date": "x"})
    """
    new, codes = up(src)
    assert "def f(execution_date):" in new and "UG403" not in codes


# -- select / ignore, layout ------------------------------------------------------------------------


def test_select_and_ignore():
    src = """
    from airflow import DAG

    d = DAG("d", schedule_interval="@daily", default_view="grid")
    """
    only_args = up(src, select=("UG2",))[0]
    assert "from airflow import DAG" in only_args and "default_view" not in only_args
    assert 'schedule="@daily"' in only_args  # UG201 without the time model (UG5)
    no_time = up(src, ignore=("UG5",))[0]
    assert "catchup" not in no_time and "CronDataIntervalTimetable" not in no_time


def test_removed_arguments_keep_their_comments():
    new, _ = up(
        """
        from airflow import DAG

        d = DAG(
            "d",
            schedule=None,
            default_view="grid",  # the grid
            orientation="LR",  # left to right
        )
        """
    )
    assert new.endswith("    schedule=None,\n    # the grid\n    # left to right\n)\n")


def comments(text: str) -> list[str]:
    return [
        t.string
        for t in tokenize.generate_tokens(io.StringIO(text).readline)
        if t.type == tokenize.COMMENT
    ]


def test_every_comment_survives_and_a_second_upgrade_changes_nothing():
    """Over the corpus, in both time models (tests/test_upgrade_engine.py does
    the same over Airflow's own example DAGs)."""
    lost, again = {}, []
    for p in CORPUS:
        try:
            text = p.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        if detect_engine(str(p), text) != "airflow":
            continue
        for timetable in ("interval", "trigger"):
            opts = Options(today=TODAY, timetable=timetable)
            try:
                new = upgrade_text(str(p), text, opts).new
            except InputError:
                continue  # the corpus's syntax errors
            missing = [c for c in comments(text) if c not in comments(new)]
            if missing:
                lost[p.name] = missing
            if upgrade_text(str(p), new, opts).new != new:
                again.append(f"{p.name} ({timetable})")
    assert lost == {} and again == []


# -- the command line ----------------------------------------------------------------------------------


def _dag(tmp_path: Path, name="etl.py") -> Path:
    f = tmp_path / name
    f.write_text(
        'from airflow import DAG\n\nd = DAG("d", schedule_interval=None, sla_miss_callback=print)\n',
        encoding="utf-8",
    )
    return f


def test_cli_prints_a_diff_and_writes_nothing(tmp_path):
    f = _dag(tmp_path)
    before = f.read_text()
    res = CliRunner().invoke(main, ["upgrade", str(tmp_path)])
    assert res.exit_code == 1  # sla_miss_callback: behaviour dropped
    assert f.read_text() == before
    assert "-from airflow import DAG\n+from airflow.sdk import DAG\n" in res.stdout
    assert f"{f}:3: UG206 " in res.stderr and "[behaviour dropped]" in res.stderr


def test_cli_write_rewrites_in_place_keeping_the_mode(tmp_path):
    f = _dag(tmp_path)
    os.chmod(f, 0o640)
    res = CliRunner().invoke(main, ["upgrade", str(f), "--write", "--ignore", "UG206"])
    assert res.exit_code == 0, res.output
    assert (
        f.read_text()
        == 'from airflow.sdk import DAG\n\nd = DAG("d", schedule=None, sla_miss_callback=print)\n'
    )
    assert (f.stat().st_mode & 0o777) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["etl.py"]  # no temporary file left
    again = CliRunner().invoke(main, ["upgrade", str(f), "--write", "--ignore", "UG206"])
    assert again.exit_code == 0 and "0 file(s) changed" in again.stderr


def test_cli_never_touches_other_files_or_writes_through_links(tmp_path):
    other = tmp_path / "helper.py"
    other.write_text("import os\nx = '{{ execution_date }}'\n")
    outside = tmp_path.parent / f"{tmp_path.name}-outside.py"
    _dag(tmp_path.parent, outside.name)
    (tmp_path / "link.py").symlink_to(outside)
    before = outside.read_text()
    res = CliRunner().invoke(main, ["upgrade", str(tmp_path), "--write", "--ignore", "UG206"])
    assert other.read_text() == "import os\nx = '{{ execution_date }}'\n"
    assert outside.read_text() == before
    assert "is a symbolic link: not written" in res.stderr and res.exit_code == 2
    named = CliRunner().invoke(main, ["upgrade", str(other)])
    assert "not an Airflow DAG file" in named.stderr and named.exit_code == 0


def test_cli_unreadable_input_is_path_line_message_and_exit_2(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from airflow import DAG\nd = DAG(\n")
    good = _dag(tmp_path, "good.py")
    res = CliRunner().invoke(main, ["upgrade", str(tmp_path)])
    assert res.exit_code == 2
    assert f"{bad}:2: syntax error: '(' was never closed" in res.stderr
    assert "Traceback" not in res.output
    assert f"+++ b/{good}" in res.stdout  # the other file is still upgraded
    missing = CliRunner().invoke(main, ["upgrade", str(tmp_path / "nope.py")])
    assert missing.exit_code == 2 and "no such file or directory" in missing.stderr
    unknown = CliRunner().invoke(main, ["upgrade", str(good), "--select", "XY1"])
    assert unknown.exit_code == 2 and "unknown code" in unknown.stderr


def test_diff_is_empty_when_nothing_changes():
    r = upgrade_text("x.py", "from airflow.sdk import DAG\n")
    assert not r.changed and diff(r) == ""


# -- the codes ----------------------------------------------------------------------------------------------


def test_audit_marks_what_upgrade_fixes(tmp_path):
    import json

    out = tmp_path / "audit.json"
    CliRunner().invoke(
        main,
        [
            "audit",
            str(ROOT / "corpus" / "audit" / "airflow2_removals.py"),
            "--format",
            "json",
            "-o",
            str(out),
            "--no-cache",
            "--jobs",
            "0",
        ],
    )
    report = json.loads(out.read_text())
    marks = {(f["code"], f["fixable"]) for f in report["findings"]}
    assert {("AU201", True), ("AU202", True), ("AU204", False)} <= marks
    assert ("AU205", False) in marks  # prev_ds: its rewrite depends on the schedule
    assert report["summary"]["fixable"] == sum(f["fixable"] for f in report["findings"])
    table = CliRunner().invoke(
        main,
        [
            "audit",
            str(ROOT / "corpus" / "audit" / "airflow2_removals.py"),
            "--no-cache",
            "--jobs",
            "0",
        ],
    )
    assert (
        ": AU201 [*] warning " in table.stdout and "fixable with `wfconv upgrade`" in table.stdout
    )


def test_docs_hold_the_code_table_and_explain_reads_it():
    doc = (ROOT / "docs" / "upgrade.md").read_text(encoding="utf-8")
    assert markdown_table() in doc
    res = CliRunner().invoke(main, ["explain", "ug304"])
    assert res.exit_code == 0
    assert res.stdout.startswith("UG304 (Airflow 3 upgrade, warning)")
    assert "Kind: lossy." in res.stdout and "docs/upgrade.md#codes" in res.stdout
