"""Cron schedules in a DAG timezone: Airflow 2 reads the cron in the start date's zone."""

import pendulum
from airflow import DAG
from airflow.operators.bash import BashOperator

LOCAL = pendulum.timezone("Europe/Paris")

with DAG(
    "paris_morning",
    schedule_interval="0 6 * * *",
    start_date=pendulum.datetime(2024, 3, 29, tz=LOCAL),  # over the switch to summer time
    catchup=True,
):
    BashOperator(task_id="report", bash_command="report --day {{ ds }} --next {{ next_ds }}")

with DAG(
    "new_york_hourly",
    schedule_interval="@hourly",
    default_args={"start_date": pendulum.datetime(2024, 11, 3, 0, tz="America/New_York")},
):
    BashOperator(task_id="tick", bash_command="tick {{ ts }} {{ prev_ds }}")
