"""Setup and teardown (Airflow 2.7+): a cluster created for the run and deleted
after it, whatever happened in between; a scratch table whose teardown also
decides the run's state."""

from datetime import datetime

from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

with DAG(
    dag_id="cluster_lifecycle",
    schedule="@daily",
    start_date=datetime(2024, 1, 1),
    catchup=False,
):
    create = BashOperator(task_id="create_cluster", bash_command="cluster create c-{{ ds_nodash }}")
    load = BashOperator(task_id="load", bash_command="spark-submit load.py {{ ds }}")
    report = BashOperator(task_id="report", bash_command="spark-submit report.py {{ ds }}")
    notify = EmptyOperator(task_id="notify", trigger_rule="all_done")
    delete = BashOperator(task_id="delete_cluster", bash_command="cluster delete c-{{ ds_nodash }}")
    create >> load >> report >> notify
    report >> delete.as_teardown(setups=create)

    scratch = BashOperator(task_id="create_scratch", bash_command="psql -c 'create table s()'")
    fill = BashOperator(task_id="fill_scratch", bash_command="psql -f fill.sql")
    drop = BashOperator(task_id="drop_scratch", bash_command="psql -c 'drop table s'")
    scratch >> fill >> drop.as_teardown(setups=scratch, on_failure_fail_dagrun=True)
