import pendulum
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.python import BranchPythonOperator
from airflow.sdk import DAG


def choose(**context):
    day = context["logical_date"].weekday()
    if day < 5:
        return "weekday"
    if day == 5:
        return ["weekend", "report"]
    return "holiday"


with DAG(dag_id="audit_branch", schedule=None, start_date=pendulum.datetime(2025, 1, 1)):
    pick = BranchPythonOperator(task_id="pick", python_callable=choose)
    weekday = EmptyOperator(task_id="weekday")
    weekend = EmptyOperator(task_id="weekend")
    report = EmptyOperator(task_id="report", trigger_rule="none_failed_min_one_success")
    pick >> [weekday, weekend] >> report
