"""An Airflow DAG file whose dag-factory loader is given a relative config
path: dag-factory refuses it, so Airflow reports an import error and has no
DAG from this file (wfconv: DF305)."""

from dagfactory import load_yaml_dags

load_yaml_dags(globals_dict=globals(), config_filepath="configs/audiences.yaml")
