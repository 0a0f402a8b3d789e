"""Concurrent fan-out with .submit: futures passed as arguments are data
edges, wait_for adds ordering only, allow_failure lets a cleanup run after a
failure, and a task called several times gets name, name-1, name-2 ..."""

import shutil

from prefect import allow_failure, flow, task
from prefect.futures import wait

SHARDS = range(3)


@task(retries=2, retry_delay_seconds=[5, 60])
def fetch(shard: int) -> str:
    return f"/tmp/shard-{shard}"


@task
def validate(path: str) -> str:
    return path


@task
def merge(paths: list[str]) -> str:
    return "/tmp/merged"


@task
def publish(path: str) -> None:
    pass


@task
def audit_log(message: str) -> None:
    pass


@task
def cleanup() -> None:
    shutil.rmtree("/tmp/shards", ignore_errors=True)


@task
def all_done():
    """A no-op marker: read as an empty task."""


@flow
def fanout(run_label: str = "daily"):
    fetched = [fetch.submit(i) for i in SHARDS]
    checked = [validate.submit(f) for f in fetched]
    merged = merge.submit(checked)
    published = publish.submit(merged)
    # Runs after publish whatever happened to it.
    cleanup.submit(wait_for=[allow_failure(published)]).result()
    # Ordering only: no data flows from merge into this call.
    audit_log.submit(f"merged {run_label}", wait_for=[merged])
    wait([published])
    audit_log("done")
    all_done()
