"""env= given as a variable: known in the repository, or only at run time."""

import os
from datetime import datetime

from airflow import DAG
from airflow.operators.bash import BashOperator

from utils.config import SHARED_ENV

RUN_ENV = {**os.environ, "STAGE": "prod"}

with DAG("env_vars", start_date=datetime(2024, 1, 1), schedule=None):
    known = BashOperator(task_id="known", bash_command="env", env=SHARED_ENV)
    runtime = BashOperator(task_id="runtime", bash_command="env", env=RUN_ENV)
    inherited = BashOperator(task_id="inherited", bash_command="env", env=os.environ.copy())
    known >> runtime >> inherited
