from prefect import flow

from lib.steps import load_all
from tasks.extract import extract_customers, extract_orders
from tasks.transform import join, publish


@flow
def orders(day: str = "2024-01-01"):
    rows = extract_orders(day)
    customers = extract_customers.submit(day)
    joined = join(rows, customers)
    load_all(joined)
    return publish(joined)
