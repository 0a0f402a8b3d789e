"""Airflow reader: DAG files -> IR, read statically (never imported).

``reader`` runs the module through the abstract interpreter with hooks that
give Airflow's objects their meaning, ``objects`` holds the values those hooks
build (DAGs, tasks, groups), and ``operators`` is the table from operator
classes to IR actions.
"""

from wfconv.frontends.airflow.reader import ENGINE, parse

__all__ = ["ENGINE", "parse"]
