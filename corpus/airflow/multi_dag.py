"""Several DAGs in one file, in every declaration style, with schedule variants."""
from datetime import datetime, timedelta

from airflow import DAG
from airflow.datasets import Dataset
from airflow.operators.empty import EmptyOperator
from airflow.timetables.trigger import CronTriggerTimetable

START = datetime(2024, 1, 1)

with DAG("no_as_once", schedule="@once", start_date=START):
    EmptyOperator(task_id="only")

manual = DAG(dag_id="manual_dag", schedule=None, start_date=START, params={"limit": 10})
with manual:
    one = EmptyOperator(task_id="one")
    two = EmptyOperator(task_id="two")
    one >> two

with DAG("no_schedule_given", start_date=START) as implicit:
    EmptyOperator(task_id="t")

with DAG("dataset_consumer", schedule=[Dataset("s3://a"), Dataset("s3://b")], start_date=START):
    EmptyOperator(task_id="consume")

with DAG(
    "timetable_dag",
    schedule=CronTriggerTimetable("0 3 * * 1-5", timezone="Europe/Berlin"),
    start_date=START,
):
    EmptyOperator(task_id="weekday_job")

with DAG("continuous_dag", schedule="@continuous", start_date=START, max_active_runs=1):
    EmptyOperator(task_id="spin")

with DAG("monthly_interval", schedule_interval=timedelta(days=30), start_date=START, catchup=True):
    EmptyOperator(task_id="m")
