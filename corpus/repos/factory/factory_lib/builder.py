"""One DAG from one pipeline spec: the hand-written factory every team here
copies. A spec is plain data read from a YAML or JSON file of the repository."""

from datetime import datetime

from airflow import DAG
from airflow.operators.bash import BashOperator


def build(dag_id, spec):
    with DAG(
        dag_id,
        start_date=datetime(2024, 1, 1),
        schedule=spec.get("schedule"),
        catchup=False,
        tags=spec.get("tags", []),
    ) as dag:
        previous = None
        for step in spec["steps"]:
            task = BashOperator(
                task_id=step["name"],
                bash_command=step["command"],
                retries=spec.get("retries", 0),
            )
            for upstream in step.get("after", [previous] if previous else []):
                (dag.get_task(upstream) if isinstance(upstream, str) else upstream) >> task
            previous = task
    return dag
