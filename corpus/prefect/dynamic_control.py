"""Control flow that depends on run-time values: the frontend keeps every
task it can see, marks where each sits, and says so at the line."""

from prefect import flow, task


@task
def check_source() -> bool:
    return True


@task
def full_load() -> str:
    return "full"


@task
def incremental_load() -> str:
    return "incremental"


@task
def list_files() -> list[str]:
    return []


@task(retries=1)
def process(path: str) -> None:
    pass


@task
def poll() -> bool:
    return True


@task
def alert(reason: str) -> None:
    pass


@task
def finalize(mode: str) -> None:
    pass


@flow
def adaptive(force_full: bool = False):
    fresh = check_source()
    if force_full or not fresh:
        mode = full_load()
    else:
        mode = incremental_load()
    for path in list_files():
        process(path)
    while not poll():
        pass
    try:
        finalize(mode)
    except Exception:
        alert("finalize failed")
    state = process("manifest.json", return_state=True)
    if state.is_failed():
        alert("manifest")
