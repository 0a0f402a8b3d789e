# Airflow 1.10 style: module-level dag object, dag=dag on every task.
from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.bash_operator import BashOperator
from airflow.operators.dummy_operator import DummyOperator
from airflow.operators.python_operator import PythonOperator
from airflow.operators.subdag_operator import SubDagOperator
from airflow.utils.helpers import chain

args = {
    "owner": "airflow",
    "start_date": datetime(2019, 5, 1),
    "end_date": datetime(2020, 5, 1),
    "retries": 2,
    "retry_delay": timedelta(seconds=90),
    "depends_on_past": True,
    "queue": "legacy",
}


def sub(parent, child):
    sub_dag = DAG("%s.%s" % (parent, child), default_args=args, schedule_interval="@daily")
    DummyOperator(task_id="inner", dag=sub_dag)
    return sub_dag


def greet(name):
    print("hello %s" % name)


dag = DAG("legacy_reports", default_args=args, schedule_interval="@weekly", catchup=True)

start = DummyOperator(task_id="start", dag=dag)
hello = PythonOperator(
    task_id="hello",
    python_callable=greet,
    op_kwargs={"name": "world"},
    provide_context=True,
    dag=dag,
)
report = BashOperator(
    task_id="report",
    bash_command="report.sh {{ execution_date }} {{ tomorrow_ds }}",
    dag=dag,
    retries=0,
)
section = SubDagOperator(task_id="section", subdag=sub("legacy_reports", "section"), dag=dag)
finish = DummyOperator(task_id="finish", dag=dag, trigger_rule="none_failed_or_skipped")

hello.set_upstream(start)
start.set_downstream(report)
chain(report, section, finish)
hello >> finish
