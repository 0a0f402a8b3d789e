"""A DAG whose tasks come from a file read when the DAG file is parsed."""
import json
import os

from airflow import DAG
from airflow.models import Variable
from airflow.operators.bash import BashOperator
from airflow.utils.dates import days_ago

with open(os.path.join(os.path.dirname(__file__), "tables.json")) as fh:
    TABLES = json.load(fh)

ENV = os.environ.get("DEPLOY_ENV", "dev")
BUCKET = Variable.get("export_bucket")

with DAG("load_tables", start_date=days_ago(2), schedule="@daily") as dag:
    start = BashOperator(task_id="start", bash_command="echo start")
    for table in TABLES:
        load = BashOperator(task_id=f"load_{table}", bash_command=f"load {table}")
        start >> load
    if ENV == "prod":
        publish = BashOperator(task_id="publish", bash_command=f"publish --bucket {BUCKET}")
        start >> publish
    report = BashOperator(task_id="report", bash_command="echo report to " + ENV)
    start >> report
