"""The runs a real Airflow scheduler creates for DAG files, and what each run renders.

Why: whether a conversion keeps *when* runs start and *what* they see can only
be proved by the engine itself (docs/semantics.md R3): the same cron means
different runs in Airflow 2 and 3. ``read_runs`` loads a file or folder in an
Airflow side virtualenv (``wfconv engines install``) with Airflow's own
``DagBag`` and answers, per DAG, the first N runs its timetable creates from
the start date with catch-up on (run start, logical date, data interval: the
scheduler's own ``DagRunInfo``), and each task's templated fields rendered by
Airflow's templating for each of those runs. The work happens in
``airflow_time_child.py``, run in the virtualenv by ``wfconv.proc`` (one child
per call, with a timeout); it explains where each version keeps the
scheduler's view. Used by the time tests and meant for verify's engine
checks::

    from wfconv.engines import find_python
    from wfconv.engines.airflow_time import read_runs

    dags = read_runs(find_python("3"), "out/", runs=3)
    dags.runs("sales_etl")[0].run_after                  # datetime (UTC)
    dags.runs("sales_etl")[0].rendered["extract"]["bash_command"]
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from wfconv import proc

CHILD = Path(__file__).with_name("airflow_time_child.py")


class EngineError(RuntimeError):
    """The engine could not answer (it crashed, timed out, or refused a DAG)."""


@dataclass(frozen=True)
class EngineRun:
    """One run as the real scheduler plans it. Times are aware datetimes."""

    run_after: datetime
    logical_date: datetime | None
    data_interval_start: datetime | None
    data_interval_end: datetime | None
    run_id: str | None = None
    # task id -> templated field -> value rendered by Airflow for this run
    # ({"__error__": message} when Airflow could not render the task).
    rendered: dict[str, dict[str, Any]] = field(default_factory=dict)

    def times(self) -> tuple[datetime | None, ...]:
        """(run_after, logical_date, data_interval_start, data_interval_end)."""
        return (self.run_after, self.logical_date, self.data_interval_start, self.data_interval_end)


@dataclass
class EngineDags:
    """What one ``read_runs`` call found."""

    airflow: str  # the engine's version
    import_errors: dict[str, str]
    timetables: dict[str, str]  # dag id -> the timetable class the DAG got
    planned: dict[str, list[EngineRun]]
    errors: dict[str, str]  # dag id -> why its runs could not be planned

    def runs(self, dag_id: str) -> list[EngineRun]:
        if dag_id in self.errors:
            raise EngineError(
                f"Airflow {self.airflow} could not plan {dag_id!r}: {self.errors[dag_id]}"
            )
        if dag_id not in self.planned:
            raise EngineError(
                f"Airflow {self.airflow} loaded no DAG {dag_id!r} "
                f"(loaded: {sorted(self.planned)}; import errors: {self.import_errors})"
            )
        return self.planned[dag_id]


def _dt(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _engine_env(home: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(
        {
            "AIRFLOW_HOME": home,
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": home,
            "AIRFLOW__CORE__PLUGINS_FOLDER": os.path.join(home, "plugins"),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{os.path.join(home, 'airflow.db')}",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "ERROR",
            "PYTHONWARNINGS": "ignore",
        }
    )
    return env


def read_runs(
    python: str | os.PathLike,
    path: str | os.PathLike,
    *,
    runs: int = 3,
    render: bool = True,
    timeout: float = 300,
) -> EngineDags:
    """The first ``runs`` runs of every DAG in ``path`` (a file or folder) as
    the Airflow of ``python`` plans them, with their rendered templates when
    ``render``. Raises EngineError when the engine does not answer."""
    with tempfile.TemporaryDirectory(prefix="wfconv-airflow-time-") as home:
        request = os.path.join(home, "request.json")
        answer = os.path.join(home, "answer.json")
        with open(request, "w", encoding="utf-8") as fh:
            json.dump({"path": str(Path(path).resolve()), "runs": runs, "render": render}, fh)
        done = proc.run(
            [str(python), str(CHILD), request, answer],
            timeout=timeout,
            env=_engine_env(home),
            cwd=home,
            memory_mb=2048,
        )
        if not done.ok or not os.path.exists(answer):
            why = "timed out" if done.timed_out else f"exit {done.returncode}"
            tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-5:]
            raise EngineError(f"Airflow ({python}) {why}: " + " | ".join(tail))
        with open(answer, encoding="utf-8") as fh:
            data = json.load(fh)
    planned: dict[str, list[EngineRun]] = {}
    errors: dict[str, str] = {}
    for dag_id, entry in data["dags"].items():
        if "error" in entry:
            errors[dag_id] = entry["error"]
        planned[dag_id] = [
            EngineRun(
                _dt(r["run_after"]),
                _dt(r["logical_date"]),
                _dt(r["data_interval_start"]),
                _dt(r["data_interval_end"]),
                r.get("run_id"),
                r.get("rendered") or {},
            )
            for r in entry["runs"]
        ]
    return EngineDags(
        data["airflow"],
        data["import_errors"],
        {k: v["timetable"] for k, v in data["dags"].items()},
        planned,
        errors,
    )
