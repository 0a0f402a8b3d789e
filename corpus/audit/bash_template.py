"""bash_command ending in .sh: Airflow loads it as a Jinja template file."""
import pendulum
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG

with DAG(dag_id="audit_bash_template", schedule=None, start_date=pendulum.datetime(2025, 1, 1)):
    broken = BashOperator(task_id="broken", bash_command="bash /opt/jobs/run.sh")
    fixed = BashOperator(task_id="fixed", bash_command="bash /opt/jobs/run.sh ")
    template = BashOperator(task_id="template", bash_command="scripts/present.sh")
    elsewhere = BashOperator(task_id="elsewhere", bash_command="jobs/missing.sh")
    broken >> fixed >> template >> elsewhere
