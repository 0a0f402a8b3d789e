"""An Airflow DAG in the ignored scratch folder: never loaded."""

from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator

with DAG("scratch_dag", start_date=datetime(2024, 1, 1), schedule=None):
    EmptyOperator(task_id="start") >> EmptyOperator(task_id="end")
