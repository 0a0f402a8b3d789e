"""Nightly sales ETL: wait for the export, extract, transform, load, report.

The demo DAG of the README: a small, realistic Airflow 2 pipeline.
"""

from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.bash import BashOperator
from airflow.operators.empty import EmptyOperator
from airflow.operators.python import BranchPythonOperator, PythonOperator
from airflow.sensors.filesystem import FileSensor

EXPORT_DIR = "/data/exports"

default_args = {
    "owner": "data-eng",
    "retries": 3,
    "retry_delay": timedelta(minutes=5),
    "email_on_failure": False,
}


def transform_orders(ds, **context):
    """Clean the day's orders and compute totals."""
    print(f"transforming orders for {ds}")


def choose_load_mode(ds, **context):
    return "full_load" if ds.endswith("-01") else "incremental_load"


with DAG(
    dag_id="sales_etl",
    description="Nightly sales ETL",
    schedule="0 6 * * *",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    default_args=default_args,
    tags=["sales", "etl"],
    max_active_runs=1,
) as dag:
    wait_for_export = FileSensor(
        task_id="wait_for_export",
        filepath=f"{EXPORT_DIR}/orders_{{{{ ds_nodash }}}}.csv",
        poke_interval=120,
        timeout=60 * 60 * 2,
        mode="reschedule",
    )

    extract = BashOperator(
        task_id="extract",
        bash_command=f"python /opt/etl/extract.py --date {{{{ ds }}}} --out {EXPORT_DIR}",
        execution_timeout=timedelta(minutes=30),
    )

    transform = PythonOperator(
        task_id="transform",
        python_callable=transform_orders,
        retries=5,
        retry_exponential_backoff=True,
        max_retry_delay=timedelta(hours=1),
    )

    choose = BranchPythonOperator(task_id="choose_load_mode", python_callable=choose_load_mode)

    full_load = BashOperator(task_id="full_load", bash_command="python /opt/etl/load.py --full")
    incremental_load = BashOperator(
        task_id="incremental_load",
        bash_command="python /opt/etl/load.py --since {{ prev_ds }}",
        pool="warehouse",
    )

    report = EmptyOperator(task_id="report", trigger_rule="none_failed_min_one_success")

    wait_for_export >> extract >> transform >> choose >> [full_load, incremental_load] >> report
