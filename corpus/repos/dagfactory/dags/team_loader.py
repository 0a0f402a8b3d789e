"""An Airflow DAG config of one team, loaded by dag-factory with defaults
from another folder (defaults_config_path)."""

from pathlib import Path

from dagfactory import load_yaml_dags

HERE = Path(__file__).resolve().parent

load_yaml_dags(
    globals_dict=globals(),
    config_filepath=str(HERE / "team_configs" / "ops.yml"),
    defaults_config_path=str(HERE / "shared"),
)
