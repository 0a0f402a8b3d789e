"""One Airflow DAG from a YAML file read with pathlib."""

from pathlib import Path

import yaml

from factory_lib.builder import build

reports = build(
    "reports", yaml.safe_load((Path(__file__).parent / "configs" / "reports.yaml").read_text())
)
