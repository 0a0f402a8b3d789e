"""Steps listed in a file outside the repository: only the machine that
parses the DAG knows them."""

import json
from datetime import datetime

from airflow import DAG
from airflow.operators.bash import BashOperator

with DAG("outside", start_date=datetime(2024, 1, 1), schedule=None) as dag:
    start = BashOperator(task_id="start", bash_command="echo start")
    try:
        with open("/etc/wfconv-example/steps.json") as f:
            steps = json.load(f)
    except FileNotFoundError:
        steps = []
    for step in steps:
        start >> BashOperator(task_id=step, bash_command=f"run {step}")
