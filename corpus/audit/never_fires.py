import pendulum
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

with DAG(dag_id="audit_never_fires", schedule="0 0 31 2 *", start_date=pendulum.datetime(2025, 1, 1)):
    EmptyOperator(task_id="on_february_31st")
