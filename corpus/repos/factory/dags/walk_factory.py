"""Airflow DAGs from configs found by walking folders: os.walk, Path.rglob
and Path.iterdir, as hand-written factories find their YAML files."""

import os
from pathlib import Path

import yaml

from factory_lib.builder import build

HERE = Path(__file__).parent
TEAMS = os.path.join(os.path.dirname(__file__), "configs", "teams")

for root, _dirs, files in os.walk(TEAMS):
    for name in sorted(files):
        if name.endswith(".yml"):
            with open(os.path.join(root, name)) as f:
                spec = yaml.safe_load(f)
            dag_id = "walked_" + name[: -len(".yml")]
            globals()[dag_id] = build(dag_id, spec)

for path in sorted(HERE.rglob("*.yaml")):
    build("globbed_" + path.stem, yaml.safe_load(path.read_text()))

for path in sorted((HERE / "configs" / "teams").iterdir()):
    if path.is_file() and path.suffix == ".yml":
        build("listed_" + path.stem, yaml.safe_load(path.read_text()))
