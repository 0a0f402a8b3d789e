"""Airflow outputs that used to fail to load in real Airflow 3.3.2: sensor
times the source computed, and provider packages the install lacks."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from wfconv.backends import airflow
from wfconv.frontends import airflow as airflow_frontend

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
