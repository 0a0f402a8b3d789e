from prefect import flow, task


@task
def daily_report() -> str:
    return "daily"


@task
def weekly_report() -> str:
    return "weekly"


REPORTS = {"daily": daily_report, "weekly": weekly_report}


@flow
def reports(kind: str = "daily"):
    # The task is chosen by a flow parameter: only the run knows which.
    return REPORTS[kind]()
