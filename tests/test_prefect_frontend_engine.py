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


def _prefect_outcomes(module, failing, task_ids) -> dict[str, str]:
    """task id -> success | failed | not_run, from a real Prefect run.

    Read from Prefect's own state hooks, which its task engine calls in the
    task's thread as the run reaches a final state, before the task's future
    resolves. (Reading the task runs back from the API right after the flow
    returned was flaky on a loaded machine: Prefect 3 reports task-run states
    as events that the server's task-run recorder persists in the background,
    so the last states, or whole runs, were not there yet.)"""
    seen: dict[str, str] = {}

    def recorder(tid):
        def record(task, task_run, state):
            seen[tid] = "success" if state.is_completed() else "failed"

        return record

    for tid in task_ids:  # each probe task's function is named as its id
        t = getattr(module, tid)
        setattr(
            module, tid, t.with_options(on_completion=[recorder(tid)], on_failure=[recorder(tid)])
        )
    module.FAIL = set(failing)
    module.probe(return_state=True)
    return seen


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
        seen = _prefect_outcomes(module, failing, workflow.task_ids())
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
