"""A SubDAG made by a factory inside the parent's `with DAG` block."""

from datetime import datetime

from airflow import DAG
from airflow.operators.bash import BashOperator
from airflow.operators.empty import EmptyOperator
from airflow.operators.subdag import SubDagOperator

ARGS = {"owner": "etl", "retries": 1}


def section(parent, child, args):
    with DAG(f"{parent}.{child}", default_args=args, schedule_interval="@daily",
             start_date=datetime(2024, 1, 1)) as sub:
        for i in range(3):
            BashOperator(task_id=f"step_{i}", bash_command=f"echo {i} {{{{ ds }}}}")
    return sub


with DAG("subdag_in_block", schedule_interval="@daily", start_date=datetime(2024, 1, 1),
         default_args=ARGS) as dag:
    begin = EmptyOperator(task_id="begin")
    middle = SubDagOperator(task_id="middle", subdag=section("subdag_in_block", "middle", ARGS))
    end = EmptyOperator(task_id="end")
    begin >> middle >> end
