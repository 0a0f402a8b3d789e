"""Flows whose schedules live in prefect.yaml beside this file."""

from prefect import flow, task


@task
def snapshot(db: str) -> str:
    return db


@task
def ship(path: str) -> None:
    pass


@flow
def backup(db: str = "orders"):
    ship(snapshot(db))


@flow(name="compaction")
def compact(days: int = 7):
    snapshot("logs")


@flow
def monthly_report():
    snapshot("reports")
