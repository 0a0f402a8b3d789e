"""One DAG per customer, built by a factory (a very common pattern)."""
from datetime import datetime

from airflow import DAG
from airflow.operators.bash import BashOperator

CUSTOMERS = {
    "acme": {"schedule": "@hourly", "retries": 2},
    "globex": {"schedule": "30 2 * * *", "retries": 0},
}


def build_dag(name, schedule, retries, owner="platform"):
    dag = DAG(
        dag_id=f"export_{name}",
        schedule=schedule,
        start_date=datetime(2023, 6, 1),
        default_args={"owner": owner, "retries": retries},
        catchup=False,
    )
    with dag:
        dump = BashOperator(task_id="dump", bash_command=f"dump --customer {name}")
        upload = BashOperator(task_id="upload", bash_command=f"upload {name}.tgz")
        dump >> upload
    return dag


for customer, conf in CUSTOMERS.items():
    globals()[f"export_{customer}"] = build_dag(customer, conf["schedule"], conf["retries"])

nightly = build_dag("initech", "@daily", 1, owner="ops")
