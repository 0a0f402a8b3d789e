"""The real engines wfconv runs its output in (Airflow's side virtualenvs)."""

from wfconv.engines.provision import AIRFLOW_RELEASES, find_python, install_airflow, status

__all__ = ["AIRFLOW_RELEASES", "find_python", "install_airflow", "status"]
