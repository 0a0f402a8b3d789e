"""Shared fixtures.

Engine tests (marker ``engine``) share one Prefect ephemeral API server per
session: it takes ~10 s to start here.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("DO_NOT_TRACK", "1")


@pytest.fixture(scope="session")
def prefect_harness():
    """One Prefect test server for the whole session (import is lazy so that
    tests which do not need Prefect do not pay for it)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def _engine_python(major: str) -> Path:
    """The python of the Airflow ``major`` side virtualenv (``wfconv engines
    install``). The README's test command installs both, so a missing one is a
    failure there (``WFCONV_REQUIRE_ENGINES=1``) and a skip elsewhere."""
    from wfconv.engines import find_python

    py = find_python(major)
    if py is None:
        why = f"Airflow {major} is not installed: run `wfconv engines install airflow{major}`"
        if os.environ.get("WFCONV_REQUIRE_ENGINES") == "1":
            pytest.fail(why)
        pytest.skip(why)
    return py


@pytest.fixture(scope="session")
def airflow3_python() -> Path:
    return _engine_python("3")


@pytest.fixture(scope="session")
def airflow2_python() -> Path:
    return _engine_python("2")


@pytest.fixture
def repo_root(monkeypatch):
    monkeypatch.chdir(ROOT)
    return ROOT


DAG_FACTORY = "dag-factory==1.1.0"


@pytest.fixture(scope="session")
def dagfactory_path(airflow2_python) -> Path:
    """dag-factory's own loader for the engine tests, installed once (no
    dependencies: Airflow 2.10.5's virtualenv has them) into a folder of the
    engines cache that goes on the child's PYTHONPATH; the shared virtualenv
    is never modified."""
    from wfconv import proc
    from wfconv.engines.provision import engines_dir

    target = engines_dir() / DAG_FACTORY.replace("==", "-")
    if not (target / "dagfactory" / "__init__.py").is_file():
        tmp = target.with_name(f"{target.name}.partial-{os.getpid()}")
        done = proc.run(
            [str(airflow2_python), "-m", "pip", "install", "-q", "--no-deps"]
            + ["--target", str(tmp), DAG_FACTORY],
            timeout=300,
        )
        if not done.ok:
            why = f"cannot install {DAG_FACTORY}: {done.stderr.decode(errors='replace')[-500:]}"
            if os.environ.get("WFCONV_REQUIRE_ENGINES") == "1":
                pytest.fail(why)
            pytest.skip(why)
        try:
            tmp.rename(target)
        except OSError:  # another test worker installed it first
            shutil.rmtree(tmp, ignore_errors=True)
    return target
