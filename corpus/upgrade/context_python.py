"""Python callables that read removed context keys, as a dict and as parameters."""

from datetime import datetime, timedelta

from airflow import DAG
from airflow.decorators import task
from airflow.operators.python import PythonOperator


def from_kwargs(**kwargs):
    return " ".join(
        str(x)
        for x in (
            kwargs["execution_date"],
            kwargs.get("next_execution_date"),
            kwargs["next_ds"],
            kwargs["next_ds_nodash"],
            kwargs["yesterday_ds"],
            kwargs["tomorrow_ds"],
            kwargs["prev_execution_date_success"],
        )
    )


def by_name(execution_date, next_execution_date, ds, **context):
    # Airflow fills these parameters from the context by name.
    return f"{execution_date} {next_execution_date} {ds} {context['prev_ds']}"


with DAG(
    "context_python",
    schedule_interval=timedelta(days=1),
    start_date=datetime(2024, 2, 27),
    default_args={"owner": "probe", "retries": 1},
) as dag:
    PythonOperator(task_id="probe_kwargs", python_callable=from_kwargs)
    PythonOperator(task_id="probe_names", python_callable=by_name)

    @task(task_id="probe_taskflow")
    def taskflow(execution_date=None, ds=None, **context):
        return f"{execution_date} {context['next_execution_date']} {context['tomorrow_ds']}"

    taskflow()


def shifted(**kwargs):
    # Values one schedule tick away: hours here.
    return (
        f"{kwargs['prev_ds']} {kwargs['prev_ds_nodash']} {kwargs['prev_execution_date']}"
        f" {kwargs['tomorrow_ds_nodash']}"
    )


with DAG("context_hourly", schedule_interval="0 * * * *", start_date=datetime(2024, 3, 31, 22)):
    PythonOperator(task_id="probe_shifted", python_callable=shifted)
