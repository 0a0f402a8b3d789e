"""Airflow DAGs that dag-factory builds from a dict made in Python: one
ingestion DAG per source, with defaults given as a dict too."""

from dagfactory import load_yaml_dags

BASH = "airflow.operators.bash.BashOperator"
SOURCES = ["crm", "billing"]

config = {
    f"ingest_{source}": {
        "schedule": "0 3 * * *",
        "catchup": False,
        "task_groups": {"checks": {"tooltip": "quality checks"}},
        "tasks": {
            "extract": {"operator": BASH, "bash_command": f"extract.sh {source}"},
            "load": {
                "operator": BASH,
                "bash_command": f"load.sh {source}",
                "dependencies": ["extract"],
            },
            "row_count": {
                "operator": BASH,
                "bash_command": f"check.sh rows {source}",
                "task_group_name": "checks",
                "dependencies": ["load"],
            },
            "publish": {"operator": BASH, "bash_command": "publish.sh", "dependencies": ["checks"]},
        },
    }
    for source in SOURCES
}

load_yaml_dags(
    globals_dict=globals(),
    config_dict=config,
    defaults_config_dict={
        "default_args": {"owner": "ingestion", "start_date": "2024-01-01", "retries": 2},
        "tags": ["ingestion"],
    },
)
