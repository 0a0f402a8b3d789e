# -*- coding: utf-8 -*-
"""Ids, commands and descriptions with quotes, backslashes, triple quotes and unicode."""
from datetime import datetime

from airflow import DAG
from airflow.operators.bash import BashOperator
from airflow.operators.empty import EmptyOperator

with DAG(
    dag_id="hostile_ünïcødé",
    description='He said "hi" \\ and left: """ done """ — ✓',
    schedule="@daily",
    start_date=datetime(2024, 1, 1),
    params={"quote": "it's \"quoted\"", "path": "C:\\temp\\new"},
) as dag:
    a = BashOperator(task_id="quote'single", bash_command="echo 'single' \"double\" \\backslash")
    b = BashOperator(task_id='quote"double', bash_command='printf "%s\\n" """triple"""')
    c = BashOperator(
        task_id="naïve_日本語",
        bash_command="""echo \"\"\"multi
line\"\"\" && echo 'tab\there' && echo $'\\x41'""",
    )
    d = EmptyOperator(task_id="emoji_🚀")
    e = BashOperator(task_id="newline", bash_command="echo '\n'; echo \"{{ params.quote }}\"")
    a >> b >> c >> [d, e]
