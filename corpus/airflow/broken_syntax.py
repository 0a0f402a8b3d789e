from datetime import datetime

from airflow import DAG
from airflow.operators.bash import BashOperator

with DAG("broken", start_date=datetime(2024, 1, 1)) as dag:
    t = BashOperator(task_id="t", bash_command="echo hi"
    u = BashOperator(task_id="u", bash_command="echo u")
