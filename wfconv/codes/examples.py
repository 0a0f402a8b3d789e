"""A minimal source that triggers each audit finding (``wfconv explain AU…``
shows it; tests/test_code_examples.py audits every one and checks the code).

Each example is one file: Airflow Python, unless it starts with ``<`` (Oozie
XML) or ``{`` (wfconv IR JSON). Two files (AU006) are separated by a ``# --- next file ---`` line.
Codes without an example cannot be caused by a file's text alone: AU903 (a
per-file timeout), AU904 (a wfconv crash) and AU906 (an optional part of
wfconv that is not installed).
"""

from __future__ import annotations

NEXT_FILE = "# --- next file ---"

_HEAD = """\
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG
"""


def _dag(body: str, args: str = "schedule=None") -> str:
    return _HEAD + f'\nwith DAG("example", {args}):\n' + body


_AB = """\
    a = BashOperator(task_id="a", bash_command="echo a")
    b = BashOperator(task_id="b", bash_command="echo b")
"""


def _branch(target: str, body: str) -> str:
    return (
        "from airflow.providers.standard.operators.python import BranchPythonOperator\n"
        + _HEAD
        + f'\n\ndef choose():\n    return "{target}"\n\n\n'
        + 'with DAG("example", schedule=None):\n'
        + '    pick = BranchPythonOperator(task_id="pick", python_callable=choose)\n'
        + body
    )


_START = 'schedule="@daily", start_date=datetime(2024, 1, 1)'
_DT = "from datetime import datetime\n"

EXAMPLES: dict[str, str] = {
    "AU001": _dag(_AB + "    a >> b >> a\n"),
    "AU002": _dag(
        '    BashOperator(task_id="a", bash_command="echo 1")\n'
        '    BashOperator(task_id="a", bash_command="echo 2")\n'
    ),
    "AU003": (
        '{"wfconv_ir": 1, "workflows": [{"id": "example",\n'
        '  "tasks": [{"id": "a", "action": {"kind": "empty"}}],\n'
        '  "edges": [{"from": "a", "to": "missing"}]}]}\n'
    ),
    "AU004": _dag(_AB + '    c = BashOperator(task_id="c", bash_command="echo c")\n    a >> b\n'),
    "AU005": """\
<workflow-app name="example" xmlns="uri:oozie:workflow:0.5">
  <start to="end"/>
  <action name="orphan">
    <fs><mkdir path="/tmp/x"/></fs>
    <ok to="end"/>
    <error to="end"/>
  </action>
  <end name="end"/>
</workflow-app>
""",
    "AU006": _dag(_AB + "    a >> b\n") + NEXT_FILE + "\n" + _dag(_AB + "    a >> b\n"),
    "AU007": _dag(_AB + '    b.trigger_rule = "sometimes"\n    a >> b\n'),
    "AU101": _dag(_AB + "    a >> b\n", 'schedule="@daily"'),
    "AU102": _DT + _dag(_AB + "    a >> b\n", 'schedule="@daily", start_date=datetime.now()'),
    "AU103": _DT
    + _dag(
        _AB + "    a >> b\n", 'schedule="@hourly", start_date=datetime(2015, 1, 1), catchup=True'
    ),
    "AU104": _DT
    + _dag(_AB + "    a >> b\n", 'schedule="0 0 31 2 *", start_date=datetime(2024, 1, 1)'),
    "AU105": _DT
    + _dag(
        _AB + "    a >> b\n",
        _START + ", end_date=datetime(2023, 1, 1)",
    ),
    "AU106": _DT
    + _dag(_AB + "    a >> b\n", 'schedule="0 25 * * *", start_date=datetime(2024, 1, 1)'),
    "AU201": _DT
    + _dag(
        _AB + "    a >> b\n",
        'schedule_interval="@daily", start_date=datetime(2024, 1, 1), catchup=False',
    ),
    "AU202": "from airflow.operators.dummy import DummyOperator\n"
    + _dag('    DummyOperator(task_id="a")\n'),
    "AU203": "from airflow.operators.bash_operator import BashOperator\nfrom airflow import DAG\n"
    + '\nwith DAG("example", schedule=None):\n    BashOperator(task_id="a", bash_command="echo a")\n',
    "AU204": "from airflow.operators.subdag import SubDagOperator\n"
    + _dag('    SubDagOperator(task_id="a", subdag=None)\n'),
    "AU205": _dag('    BashOperator(task_id="a", bash_command="echo {{ execution_date }}")\n'),
    "AU206": _dag(_AB + '    b.trigger_rule = "none_failed_or_skipped"\n    a >> b\n'),
    "AU301": _dag('    BashOperator(task_id="a", bash_command="/opt/jobs/run.sh")\n'),
    "AU302": _dag('    BashOperator(task_id="a", bash_command="missing.sh")\n'),
    "AU303": _dag('    BashOperator(task_id="a", bash_command="echo $X", env={"X": "1"})\n'),
    "AU401": "from airflow.providers.standard.sensors.filesystem import FileSensor\n"
    + _dag('    FileSensor(task_id="wait", filepath="/data/ready")\n'),
    "AU402": "from airflow.providers.standard.sensors.filesystem import FileSensor\n"
    + _dag('    FileSensor(task_id="wait", filepath="/data/ready", timeout=6 * 3600)\n'),
    "AU403": _dag(
        '    a = BashOperator(task_id="a", bash_command="echo a", retries=2)\n'
        '    b = BashOperator(task_id="b", bash_command="echo b")\n'
        "    a >> b\n"
    ),
    "AU404": "from airflow.providers.standard.operators.empty import EmptyOperator\n"
    + _dag(
        '    a = EmptyOperator(task_id="a")\n'
        '    alert = EmptyOperator(task_id="alert", trigger_rule="one_failed")\n'
        "    a >> alert\n"
    ),
    "AU405": _branch(
        "nowhere", '    a = BashOperator(task_id="a", bash_command="echo a")\n    pick >> a\n'
    ),
    "AU406": _DT
    + _dag(
        '    BashOperator(task_id="a", bash_command="echo a", depends_on_past=True)\n',
        _START + ", catchup=True",
    ),
    "AU407": "import json\n\nCONFIG = json.load(open('/etc/pipeline.json'))\n\n"
    + _dag('    BashOperator(task_id="a", bash_command="echo a")\n'),
    "AU408": _dag(
        '    BashOperator(task_id="a", bash_command="echo a", trigger_rule="all_failed")\n'
    ),
    "AU409": _branch("b", _AB + "    pick >> a >> b\n"),
    "AU901": _dag('    BashOperator(task_id="a", bash_command="echo a"\n'),
    "AU902": "# -*- coding: latin-1 -*-\n"
    + _dag('    BashOperator(task_id="a", bash_command="echo \xe9")\n'),
    "AU905": "from airflow.sdk import DAG\n\n\ndef make(name):\n    return DAG(name, schedule=None)\n",
}
