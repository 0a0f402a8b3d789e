"""Side virtualenvs holding the real engines that wfconv checks its output in.

Apache Airflow does not share a virtualenv with Prefect (their pins conflict),
and users upgrading from Airflow 2 to 3 need both releases side by side. So
each Airflow release lives in its own virtualenv under the user's cache
folder, made once by ``wfconv engines install`` and found again by
``find_python``. Prefect and Luigi are ordinary extras of wfconv itself and
run in wfconv's own interpreter.

Where the virtualenvs live, first match wins:

1. ``$WFCONV_AIRFLOW3_PYTHON`` / ``$WFCONV_AIRFLOW2_PYTHON``: an interpreter
   the user already has (for Airflow 3, ``$WFCONV_AIRFLOW_PYTHON`` too);
2. ``$WFCONV_ENGINES_DIR/airflow-<version>/bin/python``;
3. ``$XDG_CACHE_HOME/wfconv/engines/airflow-<version>`` (``~/.cache`` when
   ``XDG_CACHE_HOME`` is unset).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

# The releases wfconv is checked against (see docs/engines.md).
AIRFLOW_RELEASES = {"3": "3.3.2", "2": "2.10.5"}
INSTALL_TIMEOUT_S = 1800


@dataclass(frozen=True)
class EngineStatus:
    name: str  # "airflow3", "airflow2"
    version: str
    python: Path | None
    where: str  # the path checked, or the variable that named it


def engines_dir() -> Path:
    explicit = os.environ.get("WFCONV_ENGINES_DIR")
    if explicit:
        return Path(explicit)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "wfconv" / "engines"


def venv_path(major: str) -> Path:
    return engines_dir() / f"airflow-{AIRFLOW_RELEASES[major]}"


def _env_override(major: str) -> str | None:
    names = [f"WFCONV_AIRFLOW{major}_PYTHON"]
    if major == "3":
        names.append("WFCONV_AIRFLOW_PYTHON")
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


def _python_in(venv: Path) -> Path:
    return venv / "bin" / "python"


def find_python(major: str = "3") -> Path | None:
    """The interpreter of a virtualenv holding Airflow ``major`` (``"3"`` or
    ``"2"``), or None when none is installed. Cheap: checks files only."""
    override = _env_override(major)
    if override:
        path = Path(override)
        return path if path.exists() else None
    py = _python_in(venv_path(major))
    marker = venv_path(major) / ".wfconv-complete"
    return py if py.exists() and marker.exists() else None


def status(major: str) -> EngineStatus:
    override = _env_override(major)
    where = override or str(venv_path(major))
    return EngineStatus(f"airflow{major}", AIRFLOW_RELEASES[major], find_python(major), where)


def install_airflow(major: str, *, quiet: bool = True, log=print) -> Path:
    """Create the virtualenv for Airflow ``major`` and install the pinned
    release into it (about 35 s from a package index). Idempotent: a complete
    virtualenv is left as it is. Raises ``RuntimeError`` with pip's last lines
    when the install fails."""
    existing = find_python(major)
    if existing is not None:
        return existing
    version = AIRFLOW_RELEASES[major]
    venv = venv_path(major)
    if venv.exists():
        shutil.rmtree(venv)  # an interrupted install: start again
    venv.parent.mkdir(parents=True, exist_ok=True)
    log(f"installing apache-airflow=={version} into {venv} ...")
    subprocess.run(
        [sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=300
    )
    cmd = [str(_python_in(venv)), "-m", "pip", "install", "--disable-pip-version-check"]
    if quiet:
        cmd.append("-q")
    proc = subprocess.run(
        [*cmd, f"apache-airflow=={version}"],
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT_S,
    )
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-5:])
        raise RuntimeError(f"pip could not install apache-airflow=={version}:\n{tail}")
    check = subprocess.run(
        [str(_python_in(venv)), "-c", "import airflow, sys; sys.stdout.write(airflow.__version__)"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "AIRFLOW_HOME": str(venv / "airflow_home")},
    )
    if check.returncode != 0 or check.stdout.strip() != version:
        raise RuntimeError(
            f"apache-airflow=={version} installed but does not import: {check.stderr[-500:]}"
        )
    (venv / ".wfconv-complete").write_text(version + "\n", encoding="utf-8")
    return _python_in(venv)
