"""Top-level code the scheduler runs at every parse."""
import json

import pendulum
import requests
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, Variable

TABLES = requests.get("https://config.example.com/tables").json()
BUCKET = Variable.get("bucket")
with open("/etc/pipeline.json") as fh:
    SETTINGS = json.load(fh)

with DAG(dag_id="audit_heavy_toplevel", schedule=None, start_date=pendulum.datetime(2025, 1, 1)):
    BashOperator(task_id="copy", bash_command=f"aws s3 cp s3://{BUCKET}/x .")
