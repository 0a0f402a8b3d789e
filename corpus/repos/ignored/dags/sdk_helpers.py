"""An Airflow 3 DAG whose name holds `helpers`: Airflow 3 reads
.airflowignore as globs and loads it (Airflow 2 would skip it)."""

from datetime import datetime

from airflow.sdk import DAG
from airflow.providers.standard.operators.empty import EmptyOperator

with DAG("sdk_helpers", start_date=datetime(2024, 1, 1), schedule=None):
    EmptyOperator(task_id="only")
