"""Nightly warehouse loads, built by the repository's helper functions."""

import os
from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator

from utils.bq import bigquery_etl_query, export_table
from utils.config import DEFAULT_ARGS, SHARED_ENV, TABLES

if os.environ.get("WAREHOUSE_DISABLED") == "yes":
    # Airflow loads this file whenever the variable is not set that way.
    raise RuntimeError("the warehouse is switched off")

with DAG(
    dag_id="warehouse_daily",
    default_args=DEFAULT_ARGS,
    start_date=datetime(2024, 1, 1),
    schedule="0 3 * * *",
    catchup=False,
) as dag:
    start = EmptyOperator(task_id="start")
    loads = [bigquery_etl_query(task_id=f"load_{t}", table=t) for t in TABLES]
    report = bigquery_etl_query("daily_report", table="report", dataset="reporting", retries=0)
    publish = export_table("report", env=SHARED_ENV)
    start >> loads >> report >> publish
