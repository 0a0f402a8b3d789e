from datetime import datetime

from airflow import DAG
from airflow.decorators import task, task_group
from airflow.operators.empty import EmptyOperator
from airflow.utils.task_group import TaskGroup

with DAG("warehouse_refresh", start_date=datetime(2024, 1, 1), schedule="@daily") as dag:
    start = EmptyOperator(task_id="start")
    end = EmptyOperator(task_id="end")

    with TaskGroup("staging", tooltip="Load raw tables") as staging:
        for table in ["users", "orders"]:
            EmptyOperator(task_id=f"load_{table}")

    with TaskGroup(group_id="marts", default_args={"retries": 4}) as marts:
        with TaskGroup("finance") as finance:
            revenue = EmptyOperator(task_id="revenue")
            costs = EmptyOperator(task_id="costs", retries=1)
            revenue >> costs
        with TaskGroup("flat", prefix_group_id=False) as flat:
            EmptyOperator(task_id="kpis")
        finance >> flat

    @task_group
    def checks(n):
        @task
        def row_count(n):
            return n

        @task
        def freshness():
            return True

        row_count(n) >> freshness()

    start >> staging >> marts >> end
    first = checks(10)
    second = checks(20)
    marts >> [first, second]
