"""The public Python API of docs/architecture.md §3, end to end on the README's example."""

from __future__ import annotations

import ast

import wfconv


def test_load_emit_run_verify(repo_root):
    bundle = wfconv.load("corpus/airflow/etl_basic.py")
    w = bundle.workflow("sales_etl")
    emitted = wfconv.emit(bundle, "prefect")
    name, code = next(iter(emitted.files.items()))  # the flow; then its helper module
    assert name.endswith(".py")
    ast.parse(code)
    assert all(d.code.startswith("BP") for d in emitted.diagnostics)
    (result,) = wfconv.run(w, date="2024-03-01")
    assert result.state == "success"
    assert set(result.tasks) == set(w.task_ids())
    report = wfconv.verify(w, "airflow")
    assert report.equivalent, report.summary()
