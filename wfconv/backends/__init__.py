"""Backends: IR -> target code or pictures. One module per target, registered here."""

from __future__ import annotations

import importlib

BACKENDS: dict[str, str] = {
    "airflow": "wfconv.backends.airflow",
    "prefect": "wfconv.backends.prefect",
    "luigi": "wfconv.backends.luigi",
    "oozie": "wfconv.backends.oozie",
    "mermaid": "wfconv.backends.mermaid",
    "dot": "wfconv.backends.dot",
}


def backend(target: str):
    return importlib.import_module(BACKENDS[target])


def render_graph(workflow, fmt: str = "mermaid") -> str:
    return backend(fmt).render(workflow)
