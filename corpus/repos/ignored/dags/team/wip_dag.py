"""An Airflow DAG ignored by the team folder's own .airflowignore."""

from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator

with DAG("team_wip", start_date=datetime(2024, 1, 1), schedule=None):
    EmptyOperator(task_id="start") >> EmptyOperator(task_id="end")
