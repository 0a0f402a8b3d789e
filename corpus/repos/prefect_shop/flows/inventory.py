from acme_tasks import fetch_stock
from prefect import flow, task

from tasks.transform import publish


@task
def reorder(stock: dict) -> list[dict]:
    return [{"widget": "w", "qty": max(0, 10 - stock["widgets"])}]


@flow
def inventory(warehouse: str = "berlin"):
    stock = fetch_stock(warehouse)
    plan = reorder(stock)
    return publish(plan)
