"""For every corpus workflow and every target, verify's verdict is what the
ledger predicts: every structural difference is explained by a ledger entry,
and behaviour differs only at tasks a ledger loss names or downstream of them.
A lossless conversion therefore verifies equivalent in every basic scenario,
unless its code is incomplete (a placeholder, a stub, a task that still needs
the source engine), which is never equivalent."""

from __future__ import annotations

import networkx as nx
import pytest
from golden import ENGINES, sources

from wfconv.errors import InputError
from wfconv.frontends import load_path
from wfconv.ir.validate import build_graph
from wfconv.verify import verify_workflow
from wfconv.verify.structure import _ledger_task

TARGETS = ("airflow", "prefect", "luigi", "oozie")


def _corpus_workflows():
    out = []
    for engine in ENGINES:
        for src in sources(engine):
            rel = f"corpus/{engine}/{src.name}"
            try:
                bundle = load_path(str(src), engine, static=True)
            except InputError:
                continue
            for w in bundle.workflows:
                # verify refuses an incomplete workflow (tests/test_repo_model.py)
                if not w.has_errors() and w.complete:
                    out.append(pytest.param(w, id=f"{rel}:{w.id}"))
    return out


WORKFLOWS = _corpus_workflows()


def lossy_region(w, ledger) -> set[str]:
    g = build_graph(w)
    named = {_ledger_task(d) for d in ledger if d.severity in ("warning", "error")}
    region: set[str] = set()
    for t in named & set(g.nodes):
        region |= {t} | nx.descendants(g, t)
    return region


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("w", WORKFLOWS)
def test_verdict_is_what_the_ledger_predicts(w, target, repo_root):
    report = verify_workflow(w, target)
    assert report.problems == []
    unexplained = [d.describe() for d in report.structure if not d.explained]
    assert unexplained == []
    workflow_level_loss = any(
        _ledger_task(d) is None and d.severity in ("warning", "error") for d in report.ledger
    )
    region = lossy_region(w, report.ledger)
    for v in report.behaviour:
        if v.equivalent:
            continue
        if v.task is None:
            # the run state alone differs: a workflow-level loss must say why
            assert workflow_level_loss or region, v.describe()
        else:
            assert v.task in region, v.describe()
    complete = [c for c in report.checks if c.name == "complete"]
    if complete[0].status == "fail":
        # a placeholder, a stub or a task that needs the source engine
        assert not report.equivalent, report.summary()
    elif report.lossless:
        assert report.equivalent, report.summary()
