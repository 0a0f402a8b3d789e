"""The IR the Prefect frontend reads predicts what Prefect itself does.

A probe flow (futures, wait_for, allow_failure, wait(), a blocking direct call)
is read statically, then really run by Prefect under several failure
scenarios; which tasks ran, failed or never ran must match what the reference
runtime predicts from the IR under the same scenario, except where the ledger
says the IR approximates (PF201, named task).
"""

from __future__ import annotations

import importlib.util
import sys
import textwrap

import pytest

from wfconv.frontends import prefect as pf
from wfconv.runtime.api import run as simulate
from wfconv.runtime.scenario import ALL, Scenario

PROBE = """
from prefect import allow_failure, flow, task
from prefect.futures import wait

FAIL: set = set()


def _step(name):
    if name in FAIL:
        raise ValueError(f"{name} fails on purpose")
    return name


@task
def extract():
    return _step("extract")


@task
def transform(x):
    return _step("transform")


@task
def publish(x):
    return _step("publish")


@task
def cleanup():
    return _step("cleanup")


@task
def audit(x):
    return _step("audit")


@task
def gate():
    return _step("gate")


@task
def report():
    return _step("report")


@flow
def probe():
    x = extract.submit()
    y = transform.submit(x)
    z = publish.submit(y)
    cleanup.submit(wait_for=[allow_failure(z)]).wait()
    a = audit.submit(x)
    wait([a, z])
    gate()
    report()
"""

SCENARIOS = [(), ("extract",), ("transform",), ("cleanup",), ("gate",), ("audit", "publish")]


def _prefect_outcomes(module, failing) -> dict[str, str]:
    """task id -> success | failed | not_run, from a real Prefect run."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect.client.schemas.sorting import TaskRunSort

    module.FAIL = set(failing)
    state = module.probe(return_state=True)
    flow_run_id = state.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])),
            sort=TaskRunSort.EXPECTED_START_TIME_ASC,
            limit=200,
        )
    out = {}
    for tr in runs:
        # Prefect 3.8 names a run "<task name>-<3 random hex>"; each probe task
        # is called once, so its IR id is the task name.
        tid = tr.name.rsplit("-", 1)[0]
        if tr.state.is_completed():
            out[tid] = "success"
        elif tr.state.is_failed():
            out[tid] = "failed"
        else:  # Pending "NotReady": an upstream failed
            out[tid] = "not_run"
    return out


@pytest.mark.engine
@pytest.mark.parametrize("failing", SCENARIOS, ids=lambda f: "+".join(f) or "none")
def test_ir_predicts_prefect_outcomes(tmp_path, prefect_harness, failing):
    path = tmp_path / "probe_flow.py"
    path.write_text(textwrap.dedent(PROBE), encoding="utf-8")
    workflow = pf.parse(str(path)).workflows[0]
    assert workflow.has_errors() is False

    spec = importlib.util.spec_from_file_location("probe_flow", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["probe_flow"] = module
    try:
        spec.loader.exec_module(module)
        seen = _prefect_outcomes(module, failing)
    finally:
        sys.modules.pop("probe_flow", None)

    [result] = simulate(
        workflow, Scenario(fail={t: ALL for t in failing}), date="2024-01-01T00:00:00+00:00"
    )
    predicted = {}
    for tid, tr in result.tasks.items():
        predicted[tid] = tr.state if tr.state in ("success", "failed") else "not_run"
    # Tasks Prefect never created (after a failed direct call) did not run.
    actual = {tid: seen.get(tid, "not_run") for tid in workflow.task_ids()}
    differ = {tid for tid in actual if actual[tid] != predicted[tid]}
    # The only licensed difference is the one the ledger announces: PF201,
    # a task that tolerates some upstreams (all_done) but not others.
    explained = {d.task for d in workflow.diagnostics if d.code == "PF201"}
    assert differ <= explained, (actual, predicted)
    for tid in differ:
        assert (predicted[tid], actual[tid]) == ("success", "not_run")
