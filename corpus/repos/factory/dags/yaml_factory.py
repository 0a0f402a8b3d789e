"""Airflow DAGs from a YAML file beside this one (the classic hand-written factory)."""

import os

import yaml

from factory_lib.builder import build

CONFIG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "configs", "pipelines.yml")

with open(CONFIG) as f:
    config = yaml.safe_load(f)

for name, spec in config["pipelines"].items():
    globals()[name] = build(name, spec)
