"""Operators the DAGs build through functions rather than by hand."""

from airflow.operators.bash import BashOperator

from utils.config import PROJECT


def bigquery_etl_query(task_id, table, dataset="analytics", **kwargs):
    """One BigQuery load, the way every team here writes it."""
    return BashOperator(
        task_id=task_id,
        bash_command=f"bq query --project_id={PROJECT} --dataset={dataset} < sql/{table}.sql",
        **kwargs,
    )


def export_table(name, env=None):
    return BashOperator(
        task_id=f"export_{name}",
        bash_command=f"scripts/export.sh {name}",
        env=env,
        append_env=True,
    )
