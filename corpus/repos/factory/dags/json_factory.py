"""Airflow DAGs from a JSON file, found through pathlib; the DAGs are not bound to
names of this module (Airflow registers a DAG used in a `with` block)."""

import json
from pathlib import Path

from factory_lib.builder import build

HERE = Path(__file__).resolve().parent

for spec in json.loads((HERE / "configs" / "exports.json").read_text(encoding="utf-8")):
    build(spec["dag_id"], spec)
