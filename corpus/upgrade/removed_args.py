"""Arguments, operators and names that Airflow 3 removed or renamed."""

from datetime import timedelta

from airflow import DAG
from airflow.datasets import Dataset
from airflow.operators.datetime import BranchDateTimeOperator
from airflow.operators.dummy import DummyOperator
from airflow.operators.python import PythonOperator
from airflow.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.utils.dates import days_ago
from airflow.utils.trigger_rule import TriggerRule

orders = Dataset("s3://lake/orders")


def missed(*args):
    print("SLA missed", args)


def noop(**context):
    print("ok")


default_args = {
    "owner": "platform",
    "retries": 2,
    "sla": timedelta(hours=1),  # Airflow 3 has no SLAs
    "task_concurrency": 3,
}

with DAG(
    "removed_args",
    schedule_interval="0 3 * * *",
    start_date=days_ago(3),
    catchup=False,
    concurrency=4,
    default_view="graph",  # UI only
    orientation="TB",
    sla_miss_callback=missed,
    default_args=default_args,
) as dag:
    start = DummyOperator(task_id="start", sla=timedelta(minutes=30))
    call = PythonOperator(
        task_id="call",
        python_callable=noop,
        provide_context=True,  # a no-op since Airflow 2.0
        task_concurrency=1,
        outlets=[orders],
    )
    branch = BranchDateTimeOperator(
        task_id="branch",
        follow_task_ids_if_true=["late"],
        follow_task_ids_if_false=["early"],
        target_lower=None,
        target_upper=timedelta(hours=12),
    )
    late = DummyOperator(task_id="late")
    early = DummyOperator(task_id="early", trigger_rule="dummy")
    done = DummyOperator(task_id="done", trigger_rule=TriggerRule.NONE_FAILED_OR_SKIPPED)
    trigger = TriggerDagRunOperator(
        task_id="trigger",
        trigger_dag_id="templates_daily",
        execution_date="{{ execution_date }}",
    )
    start >> call >> branch >> [late, early] >> done >> trigger

with DAG("consumer", schedule=[orders], start_date=days_ago(1), fail_stop=True):
    DummyOperator(task_id="consume")
