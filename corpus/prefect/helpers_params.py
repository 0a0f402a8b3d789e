"""Module-level helpers that call tasks are followed, dict loops are
unrolled, f-strings over parameters become templates, and the function-call
forms task(fn) / flow(name=...)(fn) are understood."""

from prefect import flow, task

DATASETS = {"sales": "daily", "inventory": "hourly"}


def copy_table(name: str, cadence: str):
    staged = stage(name)
    return publish(staged, f"{cadence}/{name}")


def _stage(name: str) -> str:
    return name


def _publish(path: str, dest: str) -> None:
    pass


stage = task(_stage)
publish = task(name="publish-table", retries=1)(_publish)


def _sync(env: str = "prod", dry_run: bool = False):
    for name, cadence in DATASETS.items():
        copy_table(name, cadence)
    stage(f"{env}/manifest")


sync = flow(name="dataset-sync")(_sync)
