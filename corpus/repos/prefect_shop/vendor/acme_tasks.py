"""A task library installed beside the shop (not one of its folders)."""

from prefect import task


@task
def fetch_stock(warehouse: str) -> dict:
    return {"warehouse": warehouse, "widgets": 3}
