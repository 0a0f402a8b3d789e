"""Airflow 3 TaskFlow: @dag called at module level, data passing, mapping."""

import pendulum
from airflow.sdk import Asset, dag, task

orders = Asset("s3://lake/orders")


@dag(
    schedule=[orders],
    start_date=pendulum.datetime(2024, 3, 1, tz="Europe/Paris"),
    catchup=False,
    tags=["taskflow"],
)
def order_pipeline(region: str = "eu", limit: int = 100):
    """Pipeline triggered by new orders."""

    @task
    def extract(region):
        return [{"id": 1}, {"id": 2}]

    @task(retries=2, retry_delay=30, multiple_outputs=True)
    def summarize(rows):
        return {"count": len(rows), "total": 0}

    @task()
    def notify(summary, channel="ops"):
        print(summary, channel)

    @task.bash
    def archive(day: str) -> str:
        return f"tar czf /archive/{day}.tgz /data/{day}"

    @task.branch
    def pick(summary):
        return "notify" if summary else "archive"

    @task.bash
    def cleanup(path):
        base = "/tmp"
        return f"rm -rf {base}/{path}"

    rows = extract(region)
    summary = summarize(rows)
    choice = pick(summary)
    choice >> [notify(summary), archive("{{ ds }}")]
    # The same task called twice gets Airflow's name__1 id.
    notify.override(trigger_rule="all_done")(summary, channel="audit")
    notify(summary, channel="sales")
    cleanup.override(task_id="cleanup_tmp")("staging")


order_pipeline()
