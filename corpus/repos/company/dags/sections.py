"""A SubDagOperator (Airflow 2 only): each section is a DAG of its own."""

from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator
from airflow.operators.subdag import SubDagOperator

from utils.subdags import section

ARGS = {"owner": "data-platform"}

with DAG("sections", default_args=ARGS, start_date=datetime(2024, 1, 1), schedule="@daily") as dag:
    first = SubDagOperator(task_id="first", subdag=section("sections", "first", ARGS))
    second = SubDagOperator(task_id="second", subdag=section("sections", "second", ARGS, steps=2))
    end = EmptyOperator(task_id="end")
    first >> second >> end
