"""Settings every DAG of the repository shares."""

from datetime import timedelta

PROJECT = "acme-data"
TABLES = ["orders", "customers", "payments"]

DEFAULT_ARGS = {
    "owner": "data-platform",
    "retries": 2,
    "retry_delay": timedelta(minutes=5),
}

SHARED_ENV = {"GCP_PROJECT": PROJECT, "LOG_LEVEL": "info"}
