from prefect import task


@task(retries=2, retry_delay_seconds=30)
def extract_orders(day: str) -> list[dict]:
    return [{"id": 1, "day": day, "customer": 7}]


@task
def extract_customers(day: str) -> list[dict]:
    return [{"id": 7, "name": "Ada"}]
