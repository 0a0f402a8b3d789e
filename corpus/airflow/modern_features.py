"""Airflow 2.7+/3 features: setup/teardown, Params, a TaskGroup without `with`,
a class-based factory, an @asset, edge labels and a custom operator."""

import pendulum
from airflow.models.baseoperator import BaseOperator
from airflow.sdk import DAG, Label, Param, TaskGroup, asset, setup, task, teardown
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.empty import EmptyOperator


class AuditOperator(BaseOperator):
    """A custom operator defined in the DAG file itself."""

    def __init__(self, level="info", **kwargs):
        super().__init__(**kwargs)
        self.level = level


class ClusterJob:
    def __init__(self, name, size):
        self.name = name
        self.size = size

    def command(self):
        return f"submit --job {self.name} --workers {self.size}"


JOBS = [ClusterJob("ingest", 4), ClusterJob("score", 16)]


@asset(schedule="@hourly", uri="s3://lake/events")
def events():
    return "events"


with DAG(
    "modern",
    schedule=events,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    params={"limit": Param(100, type="integer", minimum=1), "mode": "full"},
    tags=["airflow3"],
) as dag:

    @setup
    def create_cluster():
        return "cluster-1"

    @teardown
    def delete_cluster(cluster_id):
        print("deleting", cluster_id)

    cluster = create_cluster()
    with delete_cluster(cluster):
        jobs = TaskGroup("jobs")
        for job in JOBS:
            BashOperator(task_id=job.name, bash_command=job.command(), task_group=jobs)

    check = AuditOperator(task_id="audit", level="warn")
    done = EmptyOperator(task_id="done", trigger_rule="none_failed_min_one_success")
    jobs >> Label("all jobs finished") >> check >> done

    @task
    def summary(limit="{{ params.limit }}"):
        return limit

    done >> summary()
