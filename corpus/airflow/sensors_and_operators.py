from datetime import timedelta

import pendulum
from airflow import DAG
from airflow.operators.empty import EmptyOperator
from airflow.operators.email import EmailOperator
from airflow.operators.python import ShortCircuitOperator
from airflow.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.providers.amazon.aws.operators.emr import EmrAddStepsOperator
from airflow.providers.amazon.aws.sensors.s3 import S3KeySensor
from airflow.providers.apache.hive.operators.hive import HiveOperator
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.providers.postgres.operators.postgres import PostgresOperator
from airflow.sensors.external_task import ExternalTaskSensor
from airflow.sensors.time_delta import TimeDeltaSensor
from airflow.utils.edgemodifier import Label
from airflow.utils.trigger_rule import TriggerRule
from company.plugins.operators import FancyOperator


def is_weekday(**context):
    return context["logical_date"].weekday() < 5


def on_fail(context):
    print("failed")


with DAG(
    "operator_zoo",
    schedule=timedelta(hours=12),
    start_date=pendulum.datetime(2024, 5, 1, tz="UTC"),
    end_date=pendulum.datetime(2025, 5, 1, tz="UTC"),
    dagrun_timeout=timedelta(hours=3),
    default_args={"postgres_conn_id": "warehouse", "poke_interval": 30, "on_failure_callback": on_fail},
) as dag:
    upstream_done = ExternalTaskSensor(
        task_id="upstream_done",
        external_dag_id="sales_etl",
        external_task_id="report",
        execution_delta=timedelta(hours=1),
        timeout=3600,
        mode="reschedule",
        soft_fail=True,
    )
    cool_down = TimeDeltaSensor(task_id="cool_down", delta=timedelta(minutes=10))
    landing = S3KeySensor(task_id="landing", bucket_key="s3://in/{{ ds }}/_SUCCESS", aws_conn_id="aws")
    weekday = ShortCircuitOperator(task_id="weekday", python_callable=is_weekday, ignore_downstream_trigger_rules=False)
    pod = KubernetesPodOperator(
        task_id="pod",
        image="ghcr.io/acme/etl:1.2",
        cmds=["python", "-m", "etl"],
        arguments=["--date", "{{ ds }}"],
        namespace="data",
        name="etl-pod",
        execution_timeout=timedelta(minutes=45),
    )
    sql = SQLExecuteQueryOperator(task_id="sql", conn_id="analytics", sql="SELECT 1; -- {{ ds }}")
    pg = PostgresOperator(task_id="pg", sql="CALL refresh_mv();")
    spark = SparkSubmitOperator(task_id="spark", application="/jobs/agg.py", application_args=["--day", "{{ ds }}"], conf={"spark.executor.memory": "4g"})
    hive = HiveOperator(task_id="hive", hql="INSERT OVERWRITE TABLE t SELECT * FROM s")
    emr = EmrAddStepsOperator(task_id="emr", job_flow_id="j-123", steps=[{"Name": "step"}])
    fancy = FancyOperator(task_id="fancy", level=3, targets=["a", "b"])
    trigger = TriggerDagRunOperator(task_id="trigger", trigger_dag_id="downstream_dag", conf={"day": "{{ ds }}"}, wait_for_completion=True)
    mail = EmailOperator(
        task_id="mail",
        to="ops@example.com, data@example.com",
        subject="Done {{ ds }}",
        html_content="<b>ok</b>",
        trigger_rule=TriggerRule.ALL_DONE,
    )
    always = EmptyOperator(task_id="always", trigger_rule=TriggerRule.ONE_FAILED, priority_weight=10, sla=timedelta(hours=2))

    upstream_done >> cool_down >> landing >> weekday
    weekday >> Label("weekdays only") >> [pod, sql]
    pod >> pg >> spark >> hive >> emr >> fancy >> trigger >> mail
    [sql, trigger] >> always
