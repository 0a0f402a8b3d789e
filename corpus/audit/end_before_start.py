import pendulum
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

with DAG(
    dag_id="audit_end_before_start",
    schedule="@daily",
    start_date=pendulum.datetime(2025, 6, 1, tz="UTC"),
    end_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
):
    EmptyOperator(task_id="only")
