"""A parent flow calling two subflows (each also a workflow of its own),
one renamed through with_options, plus deployments with timezone-aware
schedules built from prefect.schedules objects."""

from datetime import datetime, timedelta

from prefect import flow, serve, task
from prefect.schedules import Cron, Interval


@task
def ingest(source: str) -> str:
    return source


@task(retries=2, retry_delay_seconds=15)
def build_features(path: str) -> str:
    return path


@task
def train(features: str, epochs: int) -> str:
    return "model"


@flow(name="prepare-data", retries=2, retry_delay_seconds=60)
def prepare(source: str = "s3://ml/raw") -> str:
    raw = ingest(source)
    return build_features(raw)


@flow
def training(features: str, epochs: int = 10) -> str:
    return train(features, epochs)


@flow(name="ml-pipeline")
def pipeline(source: str = "s3://ml/raw"):
    features = prepare(source)
    model = training(features, epochs=20)
    quick = training.with_options(name="quick-training", timeout_seconds=900)
    quick(features, epochs=1)
    return model


if __name__ == "__main__":
    nightly = pipeline.to_deployment(
        name="nightly",
        schedule=Cron("0 3 * * 1-5", timezone="Europe/Berlin"),
        parameters={"source": "s3://ml/nightly"},
    )
    hourly = prepare.to_deployment(
        name="hourly-prep",
        schedules=[Interval(timedelta(hours=1), anchor_date=datetime(2024, 1, 1, 0, 15), timezone="UTC")],
    )
    serve(nightly, hourly)
