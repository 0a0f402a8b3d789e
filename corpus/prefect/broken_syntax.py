from prefect import flow, task


@task
def extract():
    return 1


@flow
def broken():
    extract(
    print("unclosed")

