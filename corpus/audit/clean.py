"""A DAG with nothing to report: fixed start, bounded catchup, retries everywhere."""
import pendulum
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

with DAG(
    dag_id="audit_clean",
    schedule="0 6 * * *",
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    default_args={"retries": 2},
):
    start = EmptyOperator(task_id="start")
    extract = BashOperator(task_id="extract", bash_command="python extract.py {{ ds }}")
    load = BashOperator(task_id="load", bash_command="scripts/present.sh")
    start >> extract >> load
