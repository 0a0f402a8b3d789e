import pendulum
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG

with DAG(dag_id="audit_retries", schedule=None, start_date=pendulum.datetime(2025, 1, 1)):
    extract = BashOperator(task_id="extract", bash_command="extract", retries=3)
    load = BashOperator(task_id="load", bash_command="load")
    extract >> load
