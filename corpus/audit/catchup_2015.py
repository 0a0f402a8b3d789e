import pendulum
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG

with DAG(
    dag_id="audit_catchup_2015",
    schedule="0 * * * *",
    start_date=pendulum.datetime(2015, 1, 1, tz="UTC"),
    catchup=True,
):
    BashOperator(task_id="hourly", bash_command="echo {{ ds }}", depends_on_past=True)
