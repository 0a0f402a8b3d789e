"""Airflow's own example DAGs (2.10.5 and 3.3.2, from the side virtualenvs of
``wfconv engines install``) through the whole pipeline: read, emitted for
every target (Python that parses), run in the reference runtime and audited,
without an internal error."""

from __future__ import annotations

import ast
from datetime import datetime
from pathlib import Path

import pytest

from wfconv.audit.analyze import audit_source
from wfconv.backends import backend
from wfconv.errors import InputError
from wfconv.frontends import load_path
from wfconv.runtime import Scenario, run

pytestmark = pytest.mark.engine


def _examples(python: Path) -> list[Path]:
    root = python.parent.parent / "lib" / "python3.11" / "site-packages" / "airflow"
    return sorted(p for p in root.glob("**/example_dags/*.py") if "__pycache__" not in p.parts)


@pytest.mark.parametrize("major", ["2", "3"])
def test_every_example_dag_goes_through_every_stage(major, request):
    files = _examples(request.getfixturevalue(f"airflow{major}_python"))
    assert files, "the Airflow virtualenv holds no example DAGs"
    problems = []
    workflows = 0
    for f in files:
        try:
            bundle = load_path(f, "airflow")
        except InputError:
            continue
        for w in bundle.workflows:
            if w.has_errors():
                continue
            workflows += 1
            for target in ("airflow", "prefect", "luigi", "oozie"):
                try:
                    files_out = backend(target).emit(w).files
                    for name, text in files_out.items():
                        if name.endswith(".py"):
                            ast.parse(text)
                except Exception as exc:  # noqa: BLE001 - collected, reported below
                    problems.append(f"{f.name}:{w.id} -> {target}: {type(exc).__name__}: {exc}")
            try:
                run(w, Scenario())
            except InputError:
                pass
            except Exception as exc:  # noqa: BLE001
                problems.append(f"{f.name}:{w.id} run: {type(exc).__name__}: {exc}")
        res = audit_source(str(f), f.read_bytes(), "airflow", datetime(2026, 1, 1))
        problems += [f"{f.name} audit: {x.message}" for x in res.findings if x.code == "AU904"]
    assert workflows > 40
    assert problems == []
