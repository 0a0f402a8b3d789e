import pendulum
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

with DAG(dag_id="audit_trigger_rules", schedule=None, start_date=pendulum.datetime(2025, 1, 1)):
    start = EmptyOperator(task_id="start")
    alert = BashOperator(task_id="alert", bash_command="notify", trigger_rule="one_failed")
    work = BashOperator(task_id="work", bash_command="work")
    on_failure = BashOperator(task_id="on_failure", bash_command="page", trigger_rule="one_failed")
    only_if_skipped = BashOperator(task_id="only_if_skipped", bash_command="x", trigger_rule="all_skipped")
    orphan_alert = BashOperator(task_id="orphan_alert", bash_command="x", trigger_rule="all_failed")
    start >> alert
    work >> [on_failure, only_if_skipped]
