"""Ask a real Airflow (2.x or 3.x side virtualenv) what it makes of folders of
DAG files: one child process per call, one ``DagBag`` per folder
(``airflow_child.py`` says what is read). The child is owned by
``wfconv.proc`` (a timeout, a memory cap, killed with wfconv).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
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
    is made once per virtualenv and copied: ``airflow db migrate`` takes ~10 s."""
    home = Path(tempfile.mkdtemp(prefix=f"wfconv-airflow{major}-"))
    cached = venv_path(major) / "wfconv-airflow.db"
    if not cached.exists() and find_python(major) is not None and venv_path(major).is_dir():
        scratch = Path(tempfile.mkdtemp(prefix="wfconv-migrate-"))
        try:
            done = proc.run(
                [python, "-m", "airflow", "db", "migrate"],
                env=_env(scratch),
                timeout=300,
                memory_mb=MEMORY_MB,
            )
            if done.ok and (scratch / "airflow.db").exists():
                tmp = cached.with_suffix(".tmp")
                shutil.copy(scratch / "airflow.db", tmp)
                os.replace(tmp, cached)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    if cached.exists():
        shutil.copy(cached, home / "airflow.db")
    else:  # an interpreter the user named: migrate into this home
        proc.run(
            [python, "-m", "airflow", "db", "migrate"],
            env=_env(home),
            timeout=300,
            memory_mb=MEMORY_MB,
        )
    return home


def inspect_folders(
    major: str, folders: list[str], *, runs: int = 3, render: bool = True
) -> dict[str, FolderFacts] | str:
    """Facts per folder, or why Airflow could not be asked."""
    python = find_python(major)
    if python is None:
        return f"Airflow {AIRFLOW_RELEASES[major]} is not installed (wfconv engines install)"
    home = migrated_home(major, str(python)) if major == "2" and render else None
    home = home or Path(tempfile.mkdtemp(prefix=f"wfconv-airflow{major}-"))
    try:
        job = home / "job.json"
        out = home / "facts.json"
        job.write_text(
            json.dumps({"folders": folders, "runs": runs, "render": render}), encoding="utf-8"
        )
        done = proc.run(
            [str(python), str(CHILD), str(job), str(out)],
            env=_env(home),
            timeout=TIMEOUT_S,
            memory_mb=MEMORY_MB,
        )
        if not out.exists():
            tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
            why = "timed out" if done.timed_out else " | ".join(tail)
            return f"Airflow {AIRFLOW_RELEASES[major]} could not load the DAGs: {why}"
        data = json.loads(out.read_text(encoding="utf-8"))
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return {
        folder: FolderFacts(e.get("import_errors", {}), e.get("dags", {}), e.get("error"))
        for folder, e in data["folders"].items()
    }
