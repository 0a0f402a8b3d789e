"""Airflow DAGs of a config folder found through Airflow's own setting
([core] dags_folder), a common way to point dag-factory at its configs."""

from pathlib import Path

from airflow.configuration import conf as airflow_conf
from dagfactory import load_yaml_dags

load_yaml_dags(
    globals_dict=globals(),
    dags_folder=str(Path(airflow_conf.get("core", "dags_folder")) / "sales"),
)
