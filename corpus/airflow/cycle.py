from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator

with DAG("cyclic", start_date=datetime(2024, 1, 1), schedule=None) as dag:
    a = EmptyOperator(task_id="a")
    b = EmptyOperator(task_id="b")
    c = EmptyOperator(task_id="c")
    d = EmptyOperator(task_id="d")
    a >> b >> c >> d
    d >> b
