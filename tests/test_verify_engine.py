"""verify --engine: the emitted code, with probe tasks, really runs in Prefect
and Luigi, and what the engine does matches the reference runtime's prediction
except where the conversion ledger announced a loss."""

from __future__ import annotations

import networkx as nx
import pytest

from wfconv.frontends import load_path
from wfconv.ir.validate import build_graph
from wfconv.verify.engine import engine_check, engine_scenarios
from wfconv.verify.structure import _ledger_task

pytestmark = pytest.mark.engine

# retries, branch + sensor | fan-out/fan-in over groups | failure paths |
# diamond fan-in | submit fan-out | Oozie decision with a kill path |
# setup/teardown (the run's state ignores a teardown)
CASES = [
    ("airflow", "corpus/airflow/etl_basic.py"),
    ("airflow", "corpus/airflow/taskgroups.py"),
    ("oozie", "corpus/oozie/error_handlers.xml"),
    ("luigi", "corpus/luigi/diamond.py"),
    ("prefect", "corpus/prefect/fanout_submit.py"),
    ("oozie", "corpus/oozie/decision_default.xml"),
    ("airflow", "corpus/airflow/setup_teardown.py"),
]
AIRFLOW_CASES = [CASES[0], CASES[1], CASES[-1]]


def _first_workflow(engine, path):
    return load_path(path, engine).workflows[0]


def _lossy_region(w, ledger) -> set[str]:
    """Tasks a ledger loss names, and everything downstream of them (a loss at
    a branch changes what runs after it)."""
    g = build_graph(w)
    named = {_ledger_task(d) for d in ledger if d.severity in ("warning", "error")}
    named.discard(None)
    region = set()
    for t in named & set(g.nodes):
        region |= {t} | nx.descendants(g, t)
    return region


@pytest.mark.parametrize("target", ["prefect", "luigi"])
@pytest.mark.parametrize("engine,path", CASES, ids=[p.rsplit("/", 1)[1] for _, p in CASES])
def test_engine_agrees_with_prediction_except_announced_losses(
    engine, path, target, repo_root, prefect_harness
):
    from wfconv.backends import backend

    w = _first_workflow(engine, path)
    verdicts, note = engine_check(w, target)
    assert len(verdicts) == len(engine_scenarios(w, "basic")) > 1, note
    ledger = backend(target).emit(w).diagnostics
    region = _lossy_region(w, ledger)
    for v in verdicts:
        if not v.equivalent:
            assert v.task in region, v.describe()
    if target == "prefect" and not region:
        assert all(v.equivalent for v in verdicts)


def test_engine_catches_a_backend_that_drops_retries(monkeypatch, repo_root, prefect_harness):
    """The probe counts real attempts: a backend that forgets retries is caught
    in the 'fails once' scenario."""
    from wfconv.backends import prefect as prefect_backend

    real = prefect_backend.emit

    def forgetful(workflow, **options):
        for t in workflow.tasks:
            t.retries = 0
        return real(workflow, **options)

    monkeypatch.setattr(prefect_backend, "emit", forgetful)
    w = _first_workflow("airflow", "corpus/airflow/etl_basic.py")
    verdicts, _ = engine_check(w, "prefect")
    bad = {v.name: v for v in verdicts if not v.equivalent}
    assert "extract fails once" in bad
    assert (bad["extract fails once"].source, bad["extract fails once"].target) == (
        "success/2",
        "failed/1",
    )


def test_engine_compares_the_run_state_too(monkeypatch, repo_root, prefect_harness):
    """Every task can end as predicted while the run's state differs: a
    backend that lets a teardown decide the run (Airflow does not) is caught
    in the scenario where only the teardown fails."""
    from wfconv.backends import prefect as prefect_backend

    real = prefect_backend.role_facts

    def naive(workflow):
        facts = real(workflow)
        facts.leaves = [t.id for t in workflow.tasks if not workflow.downstream(t.id)]
        return facts

    monkeypatch.setattr(prefect_backend, "role_facts", naive)
    w = _first_workflow("airflow", "corpus/airflow/setup_teardown.py")
    verdicts, _ = engine_check(w, "prefect")
    bad = {v.name: v for v in verdicts if not v.equivalent}
    # delete_cluster fails, or is upstream_failed after create_cluster failed:
    # Airflow's run still succeeds (notify and drop_scratch decide it).
    assert set(bad) == {"delete_cluster fails", "create_cluster fails"}
    for v in bad.values():
        assert (v.task, v.source_run, v.target_run) == (None, "success", "failed")


def test_luigi_failure_handler_difference_is_caught_only_where_it_matters(repo_root):
    """Luigi starts a one_failed handler from the FAILURE event of every failed
    attempt (BL102), Airflow once after the last retry: the engine check must
    show the difference in 'extract fails once' and nowhere else."""
    from test_verify import alert_workflow

    verdicts, _ = engine_check(alert_workflow(), "luigi")
    bad = {v.name: (v.task, v.source, v.target) for v in verdicts if not v.equivalent}
    assert bad == {"extract fails once": ("alert", "not run", "success/1")}


@pytest.mark.parametrize(
    "engine,path", AIRFLOW_CASES, ids=[p.rsplit("/", 1)[1] for _, p in AIRFLOW_CASES]
)
def test_airflow_engine_check_in_real_airflow(engine, path, repo_root, airflow3_python):
    """dag.test() runs the emitted DAG in real Airflow 3.3.2."""
    from wfconv.backends import backend

    w = _first_workflow(engine, path)
    verdicts, note = engine_check(w, "airflow")
    assert len(verdicts) == len(engine_scenarios(w, "basic")), note
    region = _lossy_region(w, backend("airflow").emit(w).diagnostics)
    for v in verdicts:
        if not v.equivalent:
            assert v.task in region, v.describe()
