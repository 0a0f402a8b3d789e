"""An Airflow DAG whose name holds `helpers`: ignored by the regexp syntax (Airflow 2's default), loaded by the glob syntax (Airflow 3's)."""

from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator

with DAG("report_helpers", start_date=datetime(2024, 1, 1), schedule=None):
    EmptyOperator(task_id="start") >> EmptyOperator(task_id="end")
