"""Shared helpers imported by DAG files: defines no DAG itself."""
from airflow.models import Variable


def bucket():
    return Variable.get("bucket")


DEFAULTS = {"owner": "platform", "retries": 1}
