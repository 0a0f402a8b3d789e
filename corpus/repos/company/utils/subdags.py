"""A sub-DAG factory, as Airflow 1.x and 2.x projects wrote them."""

from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator


def section(parent_dag_id, child, default_args, steps=3):
    sub = DAG(
        dag_id=f"{parent_dag_id}.{child}",
        default_args=default_args,
        start_date=datetime(2024, 1, 1),
        schedule="@daily",
    )
    previous = None
    for i in range(steps):
        step = EmptyOperator(task_id=f"{child}_step_{i}", dag=sub)
        if previous is not None:
            previous >> step
        previous = step
    return sub
