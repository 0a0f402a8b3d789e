from datetime import datetime

from airflow.decorators import dag, task
from airflow.operators.bash import BashOperator


@dag(start_date=datetime(2024, 1, 1), schedule="@daily", catchup=False)
def mapping_examples():
    @task
    def list_files():
        return ["a.csv", "b.csv"]

    @task
    def process(path, mode):
        return path

    @task
    def add(x, y):
        return x + y

    @task
    def total(values):
        return sum(values)

    files = list_files()
    processed = process.partial(mode="fast").expand(path=files)
    total(processed)

    add.expand(x=[1, 2, 3], y=[10, 20])
    BashOperator.partial(task_id="echo", retries=2).expand(bash_command=["echo 1", "echo 2"])
    BashOperator.partial(task_id="pairs").expand_kwargs(
        [{"bash_command": "echo a", "env": {"X": "1"}}, {"bash_command": "echo b", "env": {"X": "2"}}]
    )


mapping_examples()
