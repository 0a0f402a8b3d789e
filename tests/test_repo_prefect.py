"""A Prefect repository read the way Prefect loads a flow, checked against
real Prefect runs (corpus/repos/prefect_shop).

Prefect loads a flow's file with the file's folder and the working directory
on ``sys.path`` (``load_flow_from_entrypoint``), and the flow's graph is made
by running it: each task call is a task run, each value of a task passed to
another is an input of that run. The test runs every flow of the repository in
a child process (the repository as its working directory, ``vendor/`` installed
as a package would be) against the session's Prefect server, and reads the
task runs back. wfconv's IR must have those tasks and data dependencies, or
say that it is incomplete and which calls it could not see.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections import Counter

import pytest
from test_repo_model import REPOS

from wfconv import proc
from wfconv.frontends import load_path

REPO = REPOS / "prefect_shop"
FLOWS = {
    "orders": "flows/orders.py:orders",
    "inventory": "flows/inventory.py:inventory",
    "reports": "flows/reports.py:reports",
}

_RUN = """
import json, sys
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.client.schemas.sorting import TaskRunSort
from prefect.flows import load_flow_from_entrypoint

out = {}
for entry in sys.argv[1:]:
    state = load_flow_from_entrypoint(entry)(return_state=True)
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[state.state_details.flow_run_id])),
            sort=TaskRunSort.EXPECTED_START_TIME_ASC,
            limit=200,
        )
    # Prefect 3.8 names a task run "<task name>-<3 random hex>".
    name = {tr.id: tr.name.rsplit("-", 1)[0] for tr in runs}
    data = [
        [name[i.id], name[tr.id]]
        for tr in runs
        for key, inputs in tr.task_inputs.items()
        if key not in ("wait_for", "__parents__")
        for i in inputs
        if getattr(i, "input_type", None) == "task_run" and i.id in name
    ]
    out[entry] = {"state": state.type.value, "tasks": sorted(name.values()), "data": sorted(data)}
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def prefect_runs(prefect_harness, tmp_path_factory):
    """entrypoint -> the task runs (by task name) and their task inputs."""
    from prefect.settings import PREFECT_API_URL

    home = tmp_path_factory.mktemp("prefect_shop")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "PREFECT_HOME": str(home / ".prefect"),
        "PREFECT_API_URL": PREFECT_API_URL.value(),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        # vendor/ stands for an installed task library: importable by Prefect,
        # not a folder of the repository.
        "PYTHONPATH": str(REPO / "vendor"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    done = proc.run([sys.executable, "-c", _RUN, *FLOWS.values()], timeout=300, env=env, cwd=REPO)
    assert done.ok, done.stderr.decode(errors="replace")[-3000:]
    return json.loads(done.stdout.decode().strip().splitlines()[-1])


def _seen(workflow) -> dict:
    """The IR in the terms of a Prefect run: task names (the IR's `-N`
    suffixes of repeated calls stripped) and data dependencies between them."""
    base = {t.id: re.sub(r"-\d+$", "", t.id) for t in workflow.tasks}
    return {
        "tasks": sorted(base.values()),
        "data": sorted([base[e.src], base[e.dst]] for e in workflow.edges if e.kind == "data"),
    }


def _read(flow: str, *paths: str):
    entry = FLOWS[flow]
    bundle = load_path(REPO / entry.split(":")[0], "prefect", repo_paths=list(paths))
    [w] = bundle.workflows
    return w


@pytest.mark.engine
@pytest.mark.slow
def test_flows_calling_the_repositorys_modules_match_prefects_runs(prefect_runs):
    real = prefect_runs[FLOWS["orders"]]
    assert real["state"] == "COMPLETED"
    w = _read("orders")
    # Tasks of tasks/, a helper of lib/ calling a task in a loop: all seen.
    assert _seen(w) == {"tasks": real["tasks"], "data": real["data"]}
    assert Counter(real["tasks"])["load"] == 2
    assert w.complete


@pytest.mark.engine
@pytest.mark.slow
def test_a_task_of_an_unread_library_is_a_loss_you_can_see(prefect_runs):
    real = prefect_runs[FLOWS["inventory"]]
    assert real["tasks"] == ["fetch_stock", "publish", "reorder"]
    w = _read("inventory")
    # Without its folder, fetch_stock's run is missing: the IR says so.
    assert _seen(w)["tasks"] == ["publish", "reorder"]
    assert not w.complete
    [reason] = w.incomplete_reasons
    assert reason.startswith(f"{REPO / 'flows' / 'inventory.py'}:14: `fetch_stock`:")
    assert "acme_tasks.fetch_stock is not read" in reason
    assert [d.line for d in w.diagnostics if d.code == "PF111"] == [14]
    [summary] = [d for d in w.diagnostics if d.code == "PF112"]
    assert "1 call(s)" in summary.message and "(fetch_stock)" in summary.message
    # Given the library's folder (--path), the flow is read exactly.
    w = _read("inventory", str(REPO / "vendor"))
    assert _seen(w) == {"tasks": real["tasks"], "data": real["data"]}
    assert w.complete


@pytest.mark.engine
@pytest.mark.slow
def test_a_task_chosen_at_run_time_is_named_in_the_loss(prefect_runs):
    real = prefect_runs[FLOWS["reports"]]
    assert real["tasks"] == ["daily_report"]
    w = _read("reports")
    assert w.tasks == [] and not w.complete
    [d] = [d for d in w.diagnostics if d.code == "PF111"]
    assert d.line == 20
    assert "one of the tasks daily_report, weekly_report, chosen at run time" in d.message


LOSSY = """
import asyncio
import logging
import time

import mystery
import pandas as pd
from prefect import flow, get_run_logger, task
from prefect_aws import S3Bucket

log = logging.getLogger(__name__)


@task
def extract():
    return [1]


@task
def load(rows):
    return rows


class Pipeline:
    def run(self):
        return load(extract())


async def process(x):
    return await extract()


def doubled(xs):
    for x in xs:
        yield x * 2


@flow
def plain():
    logger = get_run_logger()
    logger.info("start")
    rows = extract()
    frame = pd.DataFrame(rows)
    time.sleep(0)
    log.info("rows: %s", rows)
    S3Bucket.load("raw").upload_from_path("x")
    for y in doubled([1, 2]):
        print(y)
    load(frame)


@flow
def lossy():
    rows = extract()
    mystery.run_all(rows)
    undefined_helper(rows)
    Pipeline().run()
    load(rows)


@flow
async def gathered():
    await asyncio.gather(*[process(x) for x in [1, 2]])
"""


def test_calls_that_may_run_tasks_are_losses_and_others_are_not(tmp_path):
    f = tmp_path / "flows.py"
    f.write_text(LOSSY, encoding="utf-8")
    ws = {w.id: w for w in load_path(f, "prefect").workflows}
    # Logging, the standard library, data libraries, classes of a library, a
    # generator that calls no task: nothing a task could hide in.
    assert ws["plain"].complete
    assert [t.id for t in ws["plain"].tasks] == ["extract", "load"]
    lossy = ws["lossy"]
    assert not lossy.complete
    found = {d.line: d.message for d in lossy.diagnostics if d.code == "PF111"}
    assert sorted(found) == [55, 56, 57]
    assert "mystery.run_all is not read (module mystery is not in the repository" in found[55]
    assert "name 'undefined_helper' is not defined" in found[56]
    assert "instance of class Pipeline" in found[57]
    assert len(lossy.incomplete_reasons) == 3
    # An async helper's tasks run when the coroutine is awaited: not read.
    [d] = [d for d in ws["gathered"].diagnostics if d.code == "PF111"]
    assert "process() is a coroutine function" in d.message
    assert not ws["gathered"].complete


def test_convert_strict_refuses_an_incomplete_flow(tmp_path):
    from click.testing import CliRunner

    from wfconv.cli import main

    out = tmp_path / "out"
    flow = REPO / "flows" / "inventory.py"
    res = CliRunner().invoke(
        main, ["convert", str(flow), "--to", "airflow", "--strict", "-o", str(out)]
    )
    assert res.exit_code == 1
    assert "workflow 'inventory' is incomplete; not converted" in res.output
    assert not out.exists()
    res = CliRunner().invoke(
        main,
        ["convert", str(flow), "--to", "airflow", "-o", str(out), "--path", str(REPO / "vendor")],
    )
    assert res.exit_code == 0, res.output
