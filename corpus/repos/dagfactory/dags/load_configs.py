"""Every DAG of configs/ comes from dag-factory (Airflow scans files that
mention airflow and dag; this one builds them)."""

import os

from dagfactory import load_yaml_dags

CONFIGS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "configs")

load_yaml_dags(globals_dict=globals(), dags_folder=CONFIGS)
