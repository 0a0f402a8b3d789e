"""Mapping: .map over a literal list and over a task's result, unmapped()
static arguments, exponential backoff, jitter, caching options, with_options
and the tags() context manager."""

from datetime import timedelta

from prefect import flow, tags, task, unmapped
from prefect.cache_policies import INPUTS
from prefect.tasks import exponential_backoff

CITIES = ["berlin", "lagos", "lima"]


@task(
    retries=4,
    retry_delay_seconds=exponential_backoff(backoff_factor=10),
    retry_jitter_factor=0.5,
    cache_policy=INPUTS,
    cache_expiration=timedelta(hours=6),
)
def fetch_weather(city: str, api_version: str) -> dict:
    return {"city": city}


@task(persist_result=True)
def list_stations(region: str) -> list[str]:
    return []


@task
def score(station: str, weights: dict) -> float:
    return 0.0


@task
def summarize(scores: list[float], label: str) -> float:
    return sum(scores)


@flow(name="weather-scores")
def weather(region: str = "emea"):
    with tags("weather", "nightly"):
        readings = fetch_weather.map(CITIES, api_version=unmapped("v2"))
    stations = list_stations(region)
    scores = score.map(stations, weights=unmapped({"wind": 0.3}))
    fast = summarize.with_options(name="summarize-fast", retries=1, timeout_seconds=30)
    fast([s.result() for s in scores], label="fast")
    summarize(readings, label="readings")
