import pendulum
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

with DAG(dag_id="audit_shared_id", schedule=None, start_date=pendulum.datetime(2025, 1, 1)):
    EmptyOperator(task_id="a")
