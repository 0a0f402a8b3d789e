from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG
from airflow.utils.dates import days_ago

with DAG(dag_id="audit_dynamic_start", schedule="@daily", start_date=days_ago(2), catchup=True):
    EmptyOperator(task_id="only")
