import pendulum
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.python import BranchPythonOperator
from airflow.sdk import DAG


def choose():
    return "weekday"


with DAG(dag_id="audit_branch", schedule=None, start_date=pendulum.datetime(2025, 1, 1)):
    pick = BranchPythonOperator(task_id="pick", python_callable=choose)
    weekday = EmptyOperator(task_id="weekday")
    weekend = EmptyOperator(task_id="weekend")
    pick >> [weekday, weekend]
