"""Structure computed with plain Python: loops, formatting, chains."""
from datetime import datetime, timedelta

from airflow import DAG
from airflow.models.baseoperator import chain, cross_downstream
from airflow.operators.bash import BashOperator
from airflow.operators.empty import EmptyOperator

REGIONS = ["eu", "us", "apac"]
STEPS = {"clean": "clean.py", "enrich": "enrich.py", "publish": "publish.py"}
BASE = "/opt/jobs"
VERSION = 3

with DAG(
    dag_id="regional_%s_v%d" % ("pipeline", VERSION),
    schedule=timedelta(hours=6),
    start_date=datetime(2024, 2, 1, 12, 30),
    default_args={"retries": 1},
) as dag:
    begin = EmptyOperator(task_id="begin")
    done = EmptyOperator(task_id="done", trigger_rule="all_done")

    for region in REGIONS:
        prev = begin
        for step, script in STEPS.items():
            op = BashOperator(
                task_id="{}_{}".format(region, step),
                bash_command=f"python {BASE}/{script} --region {region.upper()}",
            )
            prev >> op
            prev = op
        prev >> done

    shards = [EmptyOperator(task_id=f"shard_{i:02d}") for i in range(3)]
    merges = [EmptyOperator(task_id=f"merge_{i}") for i in range(2)]
    audit = EmptyOperator(task_id="audit")
    cross_downstream(shards, merges)
    chain(done, [EmptyOperator(task_id="x1"), EmptyOperator(task_id="x2")], [EmptyOperator(task_id="y1"), EmptyOperator(task_id="y2")], audit)
    audit.set_upstream(merges)
    audit.set_downstream(EmptyOperator(task_id="final"))
    begin << EmptyOperator(task_id="precheck")
