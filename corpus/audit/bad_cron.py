import pendulum
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

with DAG(dag_id="audit_bad_cron", schedule="0 25 * * *", start_date=pendulum.datetime(2025, 1, 1)):
    EmptyOperator(task_id="at_hour_25")
