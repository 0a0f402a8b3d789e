"""A TaskGroup subclass from utils/, and a group that ends with a teardown."""

from datetime import datetime

from airflow import DAG
from airflow.operators.bash import BashOperator
from airflow.operators.empty import EmptyOperator
from airflow.utils.task_group import TaskGroup

from utils.groups import TableLoad

with DAG("grouped", start_date=datetime(2024, 1, 1), schedule=None):
    begin = EmptyOperator(task_id="begin")
    orders = TableLoad("orders")
    payments = TableLoad("payments", checks=["rows"])

    with TaskGroup("cluster") as cluster:
        create = BashOperator(task_id="create", bash_command="cluster create").as_setup()
        work = BashOperator(task_id="work", bash_command="spark-submit job.py")
        delete = BashOperator(task_id="delete", bash_command="cluster delete")
        create >> work >> delete.as_teardown(setups=create)

    # Airflow leaves the teardown out of the group's leaves: `done` follows `work`.
    done = EmptyOperator(task_id="done")
    begin >> [orders, payments] >> cluster >> done
