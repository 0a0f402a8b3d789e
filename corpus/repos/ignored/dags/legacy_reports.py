"""An Airflow DAG matched by `legacy_.*\\.py` as a regexp only."""

from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator

with DAG("legacy_reports", start_date=datetime(2024, 1, 1), schedule=None):
    EmptyOperator(task_id="start") >> EmptyOperator(task_id="end")
