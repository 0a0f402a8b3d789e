"""Prefect 3 reader: ``@flow``/``@task`` modules -> IR, read statically.

``reader`` interprets flow bodies with Prefect's execution model in mind,
``values`` holds the interpreter's values, ``bodies`` recognises what a task
body obviously is, and ``deploy`` reads deployments and schedules.
"""

from wfconv.frontends.prefect.reader import ENGINE, parse

__all__ = ["ENGINE", "parse"]
