"""Airflow outputs that used to fail to load in real Airflow 3.3.2: sensor
times the source computed, and provider packages the install lacks."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from wfconv.backends import airflow
from wfconv.frontends import airflow as airflow_frontend

ROOT = Path(__file__).resolve().parent.parent

CLOCK_SENSORS = """
import datetime

from airflow.providers.standard.sensors.date_time import DateTimeSensor
from airflow.providers.standard.sensors.time import TimeSensor
from airflow.sdk import DAG

with DAG("clock", schedule=None) as dag:
    TimeSensor(
        task_id="in_an_hour",
        target_time=(datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(hours=1)).time(),
    )
    DateTimeSensor(
        task_id="tomorrow",
        target_time=datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(days=1),
    )
    DateTimeSensor(task_id="templated", target_time="{{ data_interval_end }}")
"""

# ``datetime`` is the class here: its expression cannot be written in a file
# that imports the module under that name.
CLASS_BOUND = """
from datetime import datetime

from airflow.providers.standard.sensors.time import TimeSensor
from airflow.sdk import DAG

with DAG("bound", schedule=None) as dag:
    TimeSensor(task_id="now", target_time=datetime.now().time())
"""

PROBE = """
import datetime, importlib.util, json, sys
out = {}
for path in sys.argv[1:]:
    spec = importlib.util.spec_from_file_location("wfconv_dag", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for task in module.dag.tasks:
        when = getattr(task, "target_datetime", None) or getattr(task, "target_time", None)
        if isinstance(when, datetime.datetime):
            now = datetime.datetime.now(tz=datetime.timezone.utc)
            when = round((when - now).total_seconds() / 3600)
        out[task.task_id] = [type(task).__name__, when]
print("WFCONV " + json.dumps(out))
"""


def _emit(tmp_path, name, text):
    src = tmp_path / f"{name}.py"
    src.write_text(text, encoding="utf-8")
    (w,) = airflow_frontend.parse(str(src)).workflows
    out = airflow.emit(w)
    ((fname, code),) = out.files.items()
    dst = tmp_path / "out" / fname
    dst.parent.mkdir(exist_ok=True)
    dst.write_text(code, encoding="utf-8")
    return dst, code, {d.code for d in out.diagnostics}


@pytest.mark.engine
def test_sensor_times_the_source_computed_load_in_airflow_3(tmp_path, airflow3_python):
    """TimeSensor/DateTimeSensor ``target_time`` computed from the clock is
    written as the source's expression (it was the text of the code, and
    Airflow 3.3.2 refused the DAG: ``combine() argument 2 must be
    datetime.time, not str``); an expression over a name wfconv cannot
    vouch for becomes the failing placeholder, and the DAG still loads."""
    clock, code, found = _emit(tmp_path, "clock", CLOCK_SENSORS)
    assert "target_time=(datetime.datetime.now(tz=datetime.UTC)" in code
    assert 'target_time="{{ data_interval_end }}"' in code
    assert "BA131" in found
    bound, code, found = _emit(tmp_path, "bound", CLASS_BOUND)
    assert "BashOperator(" in code and "BA105" in found
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path / "home")}
    proc = subprocess.run(
        [str(airflow3_python), "-c", PROBE, str(clock), str(bound)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    line = next((x for x in proc.stdout.splitlines() if x.startswith("WFCONV ")), None)
    assert line, proc.stderr[-2000:]
    got = json.loads(line[len("WFCONV ") :])
    # the moments Airflow computed, in hours from now
    assert got["in_an_hour"] in (["TimeSensor", 1], ["TimeSensor", -23])
    assert got["tomorrow"] == ["DateTimeSensor", 24]
    assert got["templated"] == ["DateTimeSensor", "{{ data_interval_end }}"]
    assert got["now"][0] == "BashOperator"


def test_a_provider_a_plain_install_lacks_is_named_in_the_ledger():
    """BA132 names each provider package the DAG imports from that
    ``pip install apache-airflow`` does not bring (standard does, for 3)."""
    from wfconv.frontends import load_path

    (w,) = [
        w
        for w in load_path(ROOT / "corpus/airflow/sensors_and_operators.py", "airflow").workflows
        if w.id == "operator_zoo"
    ]
    out = airflow.emit(w)
    named = {d.target for d in out.diagnostics if d.code == "BA132"}
    assert "apache-airflow-providers-amazon" in named
    assert all(d.severity == "warning" for d in out.diagnostics if d.code == "BA132")
    assert not any("standard" in p or "common-sql" in p for p in named)
    code = next(iter(out.files.values()))
    assert "from airflow.providers.amazon." in code


@pytest.mark.engine
@pytest.mark.slow
def test_verify_names_the_provider_the_engine_lacks(airflow3_python):
    """The Airflow 3.3.2 here has no apache-hdfs provider: the Oozie
    coordinator's output (a WebHdfsSensor) fails to import in the real
    DagBag, and verify reports every Airflow check unverified naming the
    package, not a load failure of its own making."""
    from click.testing import CliRunner

    from wfconv.cli import main

    r = CliRunner().invoke(
        main,
        [
            "verify",
            str(ROOT / "corpus/oozie/coord_app/coordinator.xml"),
            "--to",
            "airflow",
            "--engine",
            "--format",
            "json",
        ],
    )
    report = json.loads(r.output)["reports"][0]
    checks = {c["check"]: c for c in report["checks"] if c["engine"].startswith("airflow")}
    package = "apache-airflow-providers-apache-hdfs"
    for name in ("loads", "structure", "time", "payload"):
        assert checks[name]["status"] == "unverified", checks[name]
        assert checks[name]["missing"] == [package]
    assert "ModuleNotFoundError" in checks["loads"]["details"][0]
    assert report["engine_note"] == f"not run: the output needs {package}"


def test_removed_variables_without_a_spelling_are_named(tmp_path):
    """``conf`` has no Airflow 3 spelling (BA130, kept); the dataset events
    of Airflow 2 are Airflow 3's asset events (BA129)."""
    dag = (
        "from airflow import DAG\n"
        "from airflow.operators.bash import BashOperator\n"
        "with DAG('c', schedule=None):\n"
        "    BashOperator(task_id='a', bash_command=\"echo {{ conf.get('core', 'x') }}\")\n"
        "    BashOperator(task_id='b', bash_command='echo {{ triggering_dataset_events }}')\n"
    )
    _, code, found = _emit(tmp_path, "c", dag)
    assert "{{ conf.get('core', 'x') }}" in code
    assert "{{ triggering_asset_events }}" in code
    assert {"BA129", "BA130"} <= found


TASKFLOW_DAG = """
import pendulum
from airflow.decorators import dag, task


@dag(schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC"))
def doubling():
    @task
    def extract() -> int:
        return 21

    @task(retries=3)
    def double(value: int) -> int:
        return value * 2

    @task
    def write(value: int, label: str) -> None:
        with open("OUT_PATH", "a") as f:
            f.write(f"{label}={value}\\n")

    @task.bash
    def shout(value: int) -> str:
        return f"echo bash={value} >> OUT_PATH"

    n = double(extract())
    shout(n)
    write(n, label="first")
    write.override(trigger_rule="all_done")(n, label="second")


doubling()
"""

TASKFLOW_PROBE = """
import importlib.util, json, os, sys
import airflow.settings
import pendulum
folder = os.path.dirname(sys.argv[1])
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = folder
airflow.settings.DAGS_FOLDER = folder  # dag.test() syncs this folder's bundle
spec = importlib.util.spec_from_file_location("wfconv_dag", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
out = {}
for t in module.dag.tasks:
    rule = getattr(t.trigger_rule, "value", t.trigger_rule)
    out[t.task_id] = [type(t).__name__, sorted(t.upstream_task_ids), t.retries, rule]
print("WFCONV " + json.dumps(out), flush=True)
module.dag.test(logical_date=pendulum.datetime(2024, 3, 5, tz="UTC"))
"""


@pytest.mark.engine
@pytest.mark.slow
def test_taskflow_stays_taskflow_and_runs_in_airflow_3(tmp_path, airflow3_python):
    """A TaskFlow source is written with @task (and @task.bash) functions
    called in the DAG, not operators; Airflow 3.3.2 builds the same tasks,
    and a dag.test() run passes the values between them (the bash command is
    computed from its argument when the task runs)."""
    from wfconv.engines.dagbag import _env, migrated_home

    out_path = tmp_path / "OUT"
    dst, code, found = _emit(tmp_path, "doubling", TASKFLOW_DAG.replace("OUT_PATH", str(out_path)))
    assert "PythonOperator" not in code
    assert "@task\ndef extract() -> int:" in code
    assert "@task(retries=3)\ndef double(value: int) -> int:" in code
    assert "double_task = double(extract_task)" in code
    assert "@task.bash\ndef shout(value: int) -> str:" in code and "BashOperator" not in code
    assert 'write.override(task_id="write__1", trigger_rule="all_done")' in code
    home = migrated_home("3", str(airflow3_python))  # a copy of a migrated database
    try:
        proc = subprocess.run(
            ["timeout", "-k", "10", "240", str(airflow3_python), "-c", TASKFLOW_PROBE, str(dst)],
            env=_env(home),
            capture_output=True,
            text=True,
        )
    finally:
        shutil.rmtree(home, ignore_errors=True)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("WFCONV ")), None)
    assert line, proc.stderr[-2000:]
    got = json.loads(line[len("WFCONV ") :])
    assert got == {
        "extract": ["_PythonDecoratedOperator", [], 0, "all_success"],
        "double": ["_PythonDecoratedOperator", ["extract"], 3, "all_success"],
        "write": ["_PythonDecoratedOperator", ["double"], 0, "all_success"],
        "write__1": ["_PythonDecoratedOperator", ["double"], 0, "all_done"],
        "shout": ["_BashDecoratedOperator", ["double"], 0, "all_success"],
    }
    assert sorted(out_path.read_text().split()) == ["bash=42", "first=42", "second=42"]


def test_taskflow_calls_and_decorators_are_ruff_format_clean(tmp_path):
    """Long settings and arguments wrap as ``ruff format`` wraps them."""
    from test_backend_common import RUFF, ruff_clean

    long = "x" * 60
    dag = f"""
import pendulum
from airflow.decorators import dag, task


@dag(schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC"))
def wrapping():
    @task(retries=4, retry_exponential_backoff=True, pool="{long}", queue="a_rather_long_queue")
    def alone(text: str) -> str:
        return text

    @task
    def shared(a: str, b: str) -> None:
        print(a, b)

    value = alone("{long}")
    shared.override(task_id="{long}_first", pool="{long}")(value, b="{long}")
    shared.override(task_id="second")(value, b="short")
    shared(value, b="third")


wrapping()
"""
    dst, code, _ = _emit(tmp_path, "wrapping", dag)
    assert "@task(\n    retries=4," in code
    assert f'shared.override(\n        task_id="{long}_first",' in code
    ruff_clean(dst)
    fmt = subprocess.run(
        [RUFF, "format", "--isolated", "--no-cache", "--check", "--diff", str(dst)],
        capture_output=True,
        text=True,
    )
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


CONTINUOUS_PROBE = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("wfconv_dag", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print("WFCONV", type(module.dag.timetable).__name__, module.dag.max_active_runs)
"""


@pytest.mark.engine
def test_continuous_stays_continuous_in_airflow_3(tmp_path, airflow3_python):
    """``@continuous`` (read as manual, AF207, kept in extra) is written back
    for an Airflow target: Airflow 3.3.2 makes it a ContinuousTimetable, not
    the NullTimetable of schedule=None."""
    dag = (
        "import pendulum\n"
        "from airflow import DAG\n"
        "from airflow.operators.empty import EmptyOperator\n"
        "with DAG('spin', schedule='@continuous', max_active_runs=1,\n"
        "         start_date=pendulum.datetime(2024, 1, 1, tz='UTC')):\n"
        "    EmptyOperator(task_id='t')\n"
    )
    dst, code, _ = _emit(tmp_path, "spin", dag)
    assert 'schedule="@continuous"' in code
    proc = subprocess.run(
        [str(airflow3_python), "-c", CONTINUOUS_PROBE, str(dst)],
        env={**os.environ, "AIRFLOW_HOME": str(tmp_path / "home")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "WFCONV ContinuousTimetable 1" in proc.stdout, proc.stderr[-2000:]


def test_catch_up_is_not_compared_for_a_once_dag():
    """@once makes one run whatever catch-up says (Airflow 2 defaults it on,
    3 off): the harness does not call that a structure difference."""
    from wfconv.engines.harness import Job, _structure_reference
    from wfconv.ir.model import Action, Schedule, Task, Workflow

    w = Workflow("o", tasks=[Task("t", Action("empty"))], schedule=Schedule("once"))
    job = Job(w, "airflow", {}, [], {})
    src = {"timetable": "OnceTimetable", "runs": [{"run_after": "x"}], "catchup": True}
    assert _structure_reference(job, src)["catchup"] is None


def test_a_task_bash_function_that_needs_its_module_stays_a_bash_operator(tmp_path):
    """Pasting it would make a stub: the command the reader worked out is
    the better output."""
    dag = (
        "import pendulum\n"
        "from airflow.decorators import dag, task\n"
        "GREETING = 'hi'\n"
        "@dag(schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz='UTC'))\n"
        "def greet():\n"
        "    @task.bash\n"
        "    def say() -> str:\n"
        "        return f'echo {GREETING}'\n"
        "    say()\n"
        "greet()\n"
    )
    _, code, found = _emit(tmp_path, "greet", dag)
    assert 'BashOperator(\n        task_id="say",\n        bash_command="echo hi",' in code
    assert "NotImplementedError" not in code and "BA101" not in found


CATCHUP_PROBE = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("wfconv_dag", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print("WFCONV", module.dag.catchup)
"""


@pytest.mark.engine
def test_an_airflow_2_timetable_dag_keeps_airflow_2_catch_up(
    tmp_path, airflow2_python, airflow3_python
):
    """catchup unset means Airflow 2's default (on) whatever timetable the DAG
    names: the Airflow 3 output says catchup=True (Airflow 3 defaults it off),
    and wfconv's own runtime catches up as Airflow 2 does."""
    from wfconv.runtime import plan_runs
    from wfconv.runtime.api import RunOptions

    dag = (
        "from datetime import datetime\n"
        "from airflow import DAG\n"
        "from airflow.operators.empty import EmptyOperator\n"
        "from airflow.timetables.trigger import CronTriggerTimetable\n"
        "with DAG('weekdays', start_date=datetime(2024, 1, 1),\n"
        "         schedule=CronTriggerTimetable('0 3 * * 1-5', timezone='UTC')) as dag:\n"
        "    EmptyOperator(task_id='t')\n"
    )
    dst, code, _ = _emit(tmp_path, "weekdays", dag)
    assert "catchup=True" in code
    got = []
    for python, path in ((airflow2_python, tmp_path / "weekdays.py"), (airflow3_python, dst)):
        proc = subprocess.run(
            [str(python), "-c", CATCHUP_PROBE, str(path)],
            env={**os.environ, "AIRFLOW_HOME": str(tmp_path / "home")},
            capture_output=True,
            text=True,
            timeout=120,
        )
        got.append(next((x for x in proc.stdout.splitlines() if x.startswith("WFCONV")), None))
    assert got == ["WFCONV True", "WFCONV True"]
    (w,) = airflow_frontend.parse(str(tmp_path / "weekdays.py")).workflows
    runs = plan_runs(w, RunOptions(now="2024-01-05T12:00:00+00:00"))
    assert [r.logical_date.day for r in runs] == [1, 2, 3, 4, 5]
