import pendulum
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

with DAG(dag_id="audit_isolated", schedule=None, start_date=pendulum.datetime(2025, 1, 1)):
    extract = EmptyOperator(task_id="extract")
    load = EmptyOperator(task_id="load")
    forgotten = EmptyOperator(task_id="forgotten")
    extract >> load
