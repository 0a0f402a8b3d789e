"""Airflow 2 idioms that Airflow 3 removed."""
from datetime import datetime

from airflow import DAG
from airflow.operators.bash_operator import BashOperator
from airflow.operators.dummy import DummyOperator
from airflow.operators.subdag import SubDagOperator

with DAG(dag_id="audit_airflow2", schedule_interval="@daily", start_date=datetime(2025, 1, 1), catchup=False) as dag:
    start = DummyOperator(task_id="start")
    report = BashOperator(task_id="report", bash_command="report.py --day {{ execution_date }} --prev {{ prev_ds }}")
    sub = SubDagOperator(task_id="sub", subdag=None)
    start >> report >> sub
