"""One Airflow DAG per YAML file of a folder."""

import glob
import os

import yaml

from factory_lib.builder import build

CONFIG_DIR = os.path.join(os.path.dirname(__file__), "configs", "teams")

for path in sorted(glob.glob(os.path.join(CONFIG_DIR, "*.yml"))):
    if not os.path.isfile(path):
        continue
    with open(path) as f:
        spec = yaml.load(f, Loader=yaml.SafeLoader)
    dag_id = "team_" + os.path.splitext(os.path.basename(path))[0]
    globals()[dag_id] = build(dag_id, spec)
