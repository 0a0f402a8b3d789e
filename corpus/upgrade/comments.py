# Comments everywhere the upgrade edits: every one of them must survive.
from datetime import datetime  # the start date

from airflow import (  # the DAG class
    DAG,  # moves to airflow.sdk
)
from airflow.operators.bash import BashOperator  # moves to the standard provider
from airflow.operators.dummy_operator import (
    DummyOperator,  # renamed EmptyOperator
)
from airflow.operators.python import PythonOperator, get_current_context  # two new homes


with DAG(
    "comments",
    # the schedule, in Airflow 2's meaning
    schedule_interval="15 4 * * *",  # every day at 04:15
    start_date=datetime(2024, 1, 1),
    default_view="tree",  # gone in Airflow 3
    # nothing below changes
    tags=["comments"],
) as dag:
    first = DummyOperator(
        task_id="first",
        sla=None,  # no SLA
    )
    # a template with a removed variable
    second = BashOperator(
        task_id="second",
        bash_command="echo {{ execution_date }}",  # the run's date
    )
    third = PythonOperator(
        task_id="third",
        python_callable=get_current_context,
        provide_context=True,  # always on since Airflow 2.0
    )
    first >> second  # the first edge
    second >> third
