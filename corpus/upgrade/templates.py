"""Every template variable Airflow 3 removed, under several schedules.

Each DAG spells its templates out, as DAG files usually do: the rewrite of
`next_ds` or `prev_ds` depends on the schedule of the DAG that renders it.
"""

from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.bash import BashOperator

# Shared by two DAGs with different schedules: only the rewrites that do not
# depend on the schedule can be made here (the others are reported).
SHARED = "{{ execution_date }} {{ tomorrow_ds }} {{ prev_ds }}"

with DAG("templates_daily", schedule_interval="@daily", start_date=datetime(2024, 1, 30)) as daily:
    BashOperator(
        task_id="all",
        bash_command=(
            "run {{ execution_date }} next {{ next_execution_date }} prev {{ prev_execution_date }}"
            " {{ next_ds }} {{ next_ds_nodash }} {{ prev_ds }} {{ prev_ds_nodash }}"
            " {{ yesterday_ds }} {{ yesterday_ds_nodash }} {{ tomorrow_ds }} {{ tomorrow_ds_nodash }}"
            " {{ macros.ds_add(next_ds, 2) }} {{ execution_date.strftime('%H') }}"
            " {{ prev_execution_date_success }} {{ dag_run.execution_date }}"
        ),
    )
    BashOperator(task_id="fstring", bash_command=f"echo {{{{ next_ds }}}} {SHARED[:3]}")
    BashOperator(task_id="shared", bash_command=SHARED)

with DAG(
    "templates_hourly",
    schedule="30 * * * *",  # half past every hour
    start_date=datetime(2024, 2, 28, 22),
    catchup=False,
) as hourly:
    BashOperator(
        task_id="all",
        bash_command=(
            "run {{ execution_date }} next {{ next_execution_date }} prev {{ prev_execution_date }}"
            " {{ next_ds }} {{ next_ds_nodash }} {{ prev_ds }} {{ prev_ds_nodash }}"
            " {{ yesterday_ds }} {{ yesterday_ds_nodash }} {{ tomorrow_ds }} {{ tomorrow_ds_nodash }}"
            " {{ macros.ds_add(next_ds, 2) }} {{ execution_date.strftime('%H') }}"
            " {{ prev_execution_date_success }} {{ dag_run.execution_date }}"
        ),
    )
    BashOperator(task_id="shared", bash_command=SHARED)

with DAG("templates_six_hours", schedule=timedelta(hours=6), start_date=datetime(2024, 3, 1, 3)):
    BashOperator(
        task_id="all",
        bash_command=(
            "run {{ execution_date }} next {{ next_execution_date }} prev {{ prev_execution_date }}"
            " {{ next_ds }} {{ next_ds_nodash }} {{ prev_ds }} {{ prev_ds_nodash }}"
            " {{ yesterday_ds }} {{ yesterday_ds_nodash }} {{ tomorrow_ds }} {{ tomorrow_ds_nodash }}"
            " {{ macros.ds_add(next_ds, 2) }} {{ execution_date.strftime('%H') }}"
            " {{ prev_execution_date_success }} {{ dag_run.execution_date }}"
        ),
    )

with DAG("templates_weekly", schedule="0 5 * * 1", start_date=datetime(2024, 1, 3)):
    BashOperator(
        task_id="all",
        bash_command=(
            "run {{ execution_date }} next {{ next_execution_date }} prev {{ prev_execution_date }}"
            " {{ next_ds }} {{ next_ds_nodash }} {{ prev_ds }} {{ prev_ds_nodash }}"
            " {{ yesterday_ds }} {{ yesterday_ds_nodash }} {{ tomorrow_ds }} {{ tomorrow_ds_nodash }}"
            " {{ macros.ds_add(next_ds, 2) }} {{ execution_date.strftime('%H') }}"
            " {{ prev_execution_date_success }} {{ dag_run.execution_date }}"
        ),
    )

with DAG("templates_manual", schedule=None, start_date=datetime(2024, 5, 5)):
    BashOperator(
        task_id="all",
        bash_command=(
            "run {{ execution_date }} next {{ next_execution_date }} prev {{ prev_execution_date }}"
            " {{ next_ds }} {{ next_ds_nodash }} {{ prev_ds }} {{ prev_ds_nodash }}"
            " {{ yesterday_ds }} {{ yesterday_ds_nodash }} {{ tomorrow_ds }} {{ tomorrow_ds_nodash }}"
            " {{ macros.ds_add(next_ds, 2) }} {{ execution_date.strftime('%H') }}"
            " {{ prev_execution_date_success }} {{ dag_run.execution_date }}"
        ),
    )

with DAG("templates_default", start_date=datetime(2024, 6, 1, 12)):  # no schedule: daily in Airflow 2
    BashOperator(
        task_id="all",
        bash_command=(
            "run {{ execution_date }} next {{ next_execution_date }} prev {{ prev_execution_date }}"
            " {{ next_ds }} {{ next_ds_nodash }} {{ prev_ds }} {{ prev_ds_nodash }}"
            " {{ yesterday_ds }} {{ yesterday_ds_nodash }} {{ tomorrow_ds }} {{ tomorrow_ds_nodash }}"
            " {{ macros.ds_add(next_ds, 2) }} {{ execution_date.strftime('%H') }}"
            " {{ prev_execution_date_success }} {{ dag_run.execution_date }}"
        ),
    )
