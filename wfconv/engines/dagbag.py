"""Ask a real Airflow (2.x or 3.x side virtualenv) what it makes of folders of
DAG files: one child process per call, one ``DagBag`` per folder
(``airflow_child.py`` says what is read). The child is owned by
``wfconv.proc`` (a timeout, a memory cap, killed with wfconv).

``inspect_folders`` is the harness's batch call (many folders, plain facts);
``read_runs`` asks about one file or folder and answers typed runs, for
callers that prove a schedule (tests/test_time_*.py)::

    from wfconv.engines import find_python
    from wfconv.engines.dagbag import read_runs

    dags = read_runs(find_python("3"), "out/", runs=3)
    dags.runs("sales_etl")[0].run_after                  # datetime (UTC)
    dags.runs("sales_etl")[0].rendered["extract"]["bash_command"]
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from wfconv import proc
from wfconv.engines.provision import AIRFLOW_RELEASES, find_python, venv_path

CHILD = Path(__file__).with_name("airflow_child.py")
TIMEOUT_S = 900
MEMORY_MB = 3072


@dataclass
class FolderFacts:
    """What one DagBag held: import errors per file, facts per DAG id."""

    import_errors: dict[str, str] = field(default_factory=dict)
    dags: dict[str, dict[str, Any]] = field(default_factory=dict)
    error: str | None = None
    version: str = ""  # the Airflow that answered


def engine_name(major: str) -> str:
    return f"airflow {AIRFLOW_RELEASES[major]}"


def _env(home: Path, folder: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW__", "AIRFLOW_HOME"))}
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "ERROR",
            "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "120",
            "PYTHONDONTWRITEBYTECODE": "1",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        }
    )
    if folder:
        env["AIRFLOW__CORE__DAGS_FOLDER"] = folder
    return env


def migrated_home(major: str, python: str) -> Path:
    """A temporary AIRFLOW_HOME whose metadata database is migrated (Airflow 2
    builds a task instance's template context from it). The migrated database
    of a side virtualenv is made once and copied: ``airflow db migrate`` takes
    ~10 s."""
    home = Path(tempfile.mkdtemp(prefix=f"wfconv-airflow{major}-"))
    ours = find_python(major)
    cached = venv_path(major) / "wfconv-airflow.db"
    if ours is not None and Path(python) == ours and venv_path(major).is_dir():
        if not cached.exists():
            scratch = Path(tempfile.mkdtemp(prefix="wfconv-migrate-"))
            try:
                if _migrate(python, scratch):
                    tmp = cached.with_suffix(".tmp")
                    shutil.copy(scratch / "airflow.db", tmp)
                    os.replace(tmp, cached)
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
        if cached.exists():
            shutil.copy(cached, home / "airflow.db")
            return home
    _migrate(python, home)  # an interpreter the user named: migrate into this home
    return home


def _migrate(python: str, home: Path) -> bool:
    done = proc.run(
        [python, "-m", "airflow", "db", "migrate"],
        env=_env(home),
        timeout=300,
        memory_mb=MEMORY_MB,
    )
    return done.ok and (home / "airflow.db").exists()


def inspect_folders(
    major: str,
    folders: list[str],
    *,
    runs: int = 3,
    render: bool = True,
    paths: dict[str, list[str]] | None = None,
) -> dict[str, FolderFacts] | str:
    """Facts per folder, or why Airflow could not be asked. ``paths``: per
    folder, more folders importable while it is read (the user's modules an
    output imports its callables from)."""
    python = find_python(major)
    if python is None:
        return f"Airflow {AIRFLOW_RELEASES[major]} is not installed (wfconv engines install)"
    # A source DAG file is read once per process, whatever the number of
    # batches (compare and the bench check one batch per target).
    keys = {f: _file_key(major, f, runs, render, paths) for f in folders}
    have = {f: _SOURCE_FACTS[k] for f, k in keys.items() if k in _SOURCE_FACTS}
    ask = [f for f in folders if f not in have]
    got = (
        _ask(str(python), major, ask, runs=runs, render=render, timeout=TIMEOUT_S, paths=paths)
        if ask
        else {}
    )
    if isinstance(got, str):
        return got
    for f, facts in got.items():
        if keys.get(f) is not None and not facts.error:
            _SOURCE_FACTS[keys[f]] = facts
    return {f: have[f] if f in have else got[f] for f in folders if f in have or f in got}


_SOURCE_FACTS: dict[tuple, FolderFacts] = {}


def _file_key(major, path, runs, render, paths) -> tuple | None:
    """What a source file's facts depend on; None for a folder (an output)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    if not os.path.isfile(path):
        return None
    extra = tuple((paths or {}).get(path, ()))
    return (major, os.path.abspath(path), st.st_mtime_ns, st.st_size, runs, render, extra)


def _ask(
    python: str,
    major: str,
    folders: list[str],
    *,
    runs: int,
    render: bool,
    timeout: float,
    paths: dict[str, list[str]] | None = None,
) -> dict[str, FolderFacts] | str:
    """One child of ``python`` for every folder (or file) in ``folders``."""
    name = f"Airflow {AIRFLOW_RELEASES.get(major, major)}"
    # Airflow 2 builds a template context from its metadata database
    home = migrated_home(major, python) if major == "2" and render else None
    home = home or Path(tempfile.mkdtemp(prefix=f"wfconv-airflow{major}-"))
    try:
        job = home / "job.json"
        out = home / "facts.json"
        job.write_text(
            json.dumps({"folders": folders, "runs": runs, "render": render, "paths": paths or {}}),
            encoding="utf-8",
        )
        done = proc.run(
            [python, str(CHILD), str(job), str(out)],
            env=_env(home),
            timeout=timeout,
            memory_mb=MEMORY_MB,
        )
        if not out.exists():
            tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
            why = "timed out" if done.timed_out else " | ".join(tail)
            return f"{name} could not load the DAGs: {why}"
        data = json.loads(out.read_text(encoding="utf-8"))
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return {
        folder: FolderFacts(
            e.get("import_errors", {}), e.get("dags", {}), e.get("error"), data.get("version", "")
        )
        for folder, e in data["folders"].items()
    }


# ---------------------------------------------------------------------------
# typed runs of one file or folder


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
    # task id -> templated field -> the value Airflow rendered for this run
    # ({"error": message} for a template it refused, {"xcom": True} for an
    # upstream's output, which exists only in a run)
    rendered: dict[str, dict[str, Any]] = field(default_factory=dict)

    def times(self) -> tuple[datetime | None, ...]:
        """(run_after, logical_date, data_interval_start, data_interval_end)."""
        return (self.run_after, self.logical_date, self.data_interval_start, self.data_interval_end)


@dataclass
class EngineDags:
    """What one ``read_runs`` call found."""

    airflow: str  # the engine's version
    import_errors: dict[str, str]
    timetables: dict[str, str]  # dag id -> the timetable class the scheduler plans with
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


def _major_of(python: str) -> str:
    for major in AIRFLOW_RELEASES:
        if find_python(major) == Path(python):
            return major
    # the installed distribution's version: no need to import Airflow for it
    code = "import importlib.metadata as m, sys; sys.stdout.write(m.version('apache-airflow'))"
    done = proc.run([python, "-c", code], timeout=120)
    if not done.ok:
        raise EngineError(
            f"{python} has no Airflow: {done.stderr.decode('utf-8', 'replace')[-300:]}"
        )
    return done.stdout.decode().strip().split(".")[0]


def _dt(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


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
    where = str(Path(path).resolve())
    got = _ask(
        str(python), _major_of(str(python)), [where], runs=runs, render=render, timeout=timeout
    )
    if isinstance(got, str):
        raise EngineError(got)
    facts = got[where]
    if facts.error:
        raise EngineError(f"Airflow {facts.version} could not load {where}: {facts.error}")
    planned: dict[str, list[EngineRun]] = {}
    errors: dict[str, str] = {}
    for dag_id, dag in facts.dags.items():
        why = dag.get("error") or dag.get("runs_error") or dag.get("render_error")
        if why:
            errors[dag_id] = why
        rendered = dag.get("rendered") or []
        planned[dag_id] = [
            EngineRun(
                _dt(r["run_after"]),
                _dt(r["logical_date"]),
                _dt(r["data_interval_start"]),
                _dt(r["data_interval_end"]),
                r.get("run_id"),
                rendered[i] if i < len(rendered) else {},
            )
            for i, r in enumerate(dag.get("runs", []))
        ]
    return EngineDags(
        facts.version,
        facts.import_errors,
        {k: v.get("timetable", "") for k, v in facts.dags.items()},
        planned,
        errors,
    )
