"""A nightly sales ETL written the way most Prefect 3 tutorials write it:
direct task calls (each blocks the flow), data passed from task to task,
task defaults and options, and a cron schedule served from __main__."""

from prefect import flow, task

SOURCE_BUCKET = "s3://sales-raw"
TABLES = ["orders", "customers"]


@task(retries=3, retry_delay_seconds=30)
def extract(table: str, day: str) -> list[dict]:
    """Read one table's export for the day."""
    return []


@task(name="clean-rows", timeout_seconds=600)
def clean(rows: list[dict]) -> list[dict]:
    return [r for r in rows if r]


@task(retries=1, retry_delay_seconds=120, tags=["warehouse"])
def load(rows: list[dict], table: str) -> int:
    """Append rows to the warehouse table."""
    return len(rows)


@task
def report(counts: list[int]) -> None:
    print(sum(counts))


@flow(name="sales-etl", description="Nightly sales ETL", timeout_seconds=7200, log_prints=True)
def sales_etl(day: str = "2024-01-01", bucket: str = SOURCE_BUCKET):
    counts = []
    for table in TABLES:
        rows = extract(table, day)
        cleaned = clean(rows)
        counts.append(load(cleaned, table=f"analytics.{table}"))
    report(counts)


if __name__ == "__main__":
    sales_etl.serve(name="nightly", cron="30 2 * * *", tags=["sales"])
