import pendulum
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

with DAG(dag_id="audit_duplicate_task", schedule=None, start_date=pendulum.datetime(2025, 1, 1)):
    first = EmptyOperator(task_id="load")
    second = EmptyOperator(task_id="load")
    first >> second
