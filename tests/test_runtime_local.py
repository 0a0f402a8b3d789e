"""Real execution: the local executor (subprocesses, templates, logs, timeouts
that kill process trees, python callables), crash-resume after ``kill -9``,
and the dask executor on a LocalCluster (slow)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from wfconv.ir.model import Action, Edge, Task, Workflow
from wfconv.runtime import Scenario, execute
from wfconv.runtime.executors import LocalExecutor
from wfconv.runtime.store import RunStore

WFCONV = [str(Path(sys.executable).parent / "wfconv")]


def sh(tid, command, **kw):
    return Task(tid, Action("shell", {"command": command}), **kw)


def run_local(w, tmp_path, scenario=None, concurrency=4, **kw):
    store = RunStore(tmp_path / "runs.sqlite")
    ex = LocalExecutor(concurrency)
    try:
        (res,) = execute(
            w,
            scenario or Scenario(),
            executor=ex,
            store=store,
            concurrency=concurrency,
            cwd=str(tmp_path),
            date="2024-05-01",
            **kw,
        )
    finally:
        ex.shutdown()
    return res, store


def test_shell_templates_logs_retries_and_skip(tmp_path):
    w = Workflow(
        "loc",
        params={"who": "ops"},
        tasks=[
            sh(
                "a",
                "echo {{ ds }} {{ ds_nodash }} {{ params.who }} {{ macros.ds_add(ds, 2) }} {{ run_id }}",
            ),
            sh("b", "echo boom; exit 3", retries=1, retry_delay_s=0.1),
            sh("e", "exit 99"),
        ],
        edges=[Edge("a", "b")],
    )
    res, store = run_local(w, tmp_path)
    assert res.tasks["a"].state == "success"
    log = store.logs(res.store_id, "a")[0]
    assert log.strip() == "2024-05-01 20240501 ops 2024-05-03 manual__2024-05-01T00:00:00+00:00"
    assert res.tasks["b"].state == "failed" and len(res.tasks["b"].attempts) == 2
    assert res.tasks["b"].attempts[0].reason == "exit code 3: boom"
    b = res.tasks["b"].attempts
    assert (b[1].start - b[0].end).total_seconds() >= 0.1
    assert res.tasks["e"].state == "skipped"
    assert res.state == "failed"


def test_timeout_kills_the_process_tree(tmp_path):
    # The task starts a background grandchild that would write a file later.
    w = Workflow("to", tasks=[sh("t", "(sleep 2; touch late.txt) & sleep 30", timeout_s=0.5)])
    t0 = time.time()
    res, _ = run_local(w, tmp_path)
    assert time.time() - t0 < 10
    assert res.tasks["t"].state == "failed"
    assert "timed out after 0.5 s" in res.tasks["t"].attempts[0].reason
    time.sleep(2.5)
    assert not (tmp_path / "late.txt").exists()  # the grandchild died with its group


def test_concurrency_limit(tmp_path):
    w = Workflow("c", tasks=[sh(f"t{i}", f"date +%s.%N > t{i}.start; sleep 0.4") for i in range(4)])
    t0 = time.time()
    res, _ = run_local(w, tmp_path, concurrency=2)
    elapsed = time.time() - t0
    assert res.state == "success"
    assert elapsed >= 0.8  # 4 tasks of 0.4 s, 2 at a time
    starts = sorted(a.start for tr in res.tasks.values() for a in tr.attempts)
    assert (starts[2] - starts[0]).total_seconds() >= 0.35


def test_python_callable_importable_and_not(tmp_path):
    (tmp_path / "mytasks.py").write_text(
        "def work(x, y=0):\n    open('called.txt', 'w').write(f'{x}-{y}')\n    return 'ok'\n"
    )
    w = Workflow(
        "py",
        tasks=[
            Task(
                "good",
                Action(
                    "python",
                    {
                        "module": "mytasks",
                        "callable": "work",
                        "op_args": ["{{ ds }}"],
                        "op_kwargs": {"y": 5},
                    },
                ),
            ),
            Task("nomod", Action("python", {"callable": "work"})),
            Task("bad", Action("python", {"module": "mytasks", "callable": "missing"})),
        ],
    )
    res, _ = run_local(w, tmp_path)
    assert res.tasks["good"].state == "success"
    assert (tmp_path / "called.txt").read_text() == "2024-05-01-5"
    assert res.tasks["nomod"].state == "failed"
    assert "names no importable module" in res.tasks["nomod"].attempts[0].reason
    assert "has no callable 'missing'" in res.tasks["bad"].attempts[0].reason


def test_control_tasks_and_scenario_on_real_clock(tmp_path):
    w = Workflow(
        "ctl",
        tasks=[
            Task("choose", Action("branch", {"callable": "pick"})),
            sh("x", "echo x"),
            sh("y", "echo y"),
            Task("join", Action("empty"), trigger_rule="none_failed_min_one_success"),
        ],
        edges=[Edge("choose", "x"), Edge("choose", "y"), Edge("x", "join"), Edge("y", "join")],
    )
    res, _ = run_local(w, tmp_path, Scenario(branch={"choose": ["y"]}))
    assert {k: v.state for k, v in res.tasks.items()} == {
        "choose": "success",
        "x": "skipped",
        "y": "success",
        "join": "success",
    }


def file_sensor(tid, target, timeout, soft=False):
    return Task(
        tid,
        Action(
            "sensor",
            {
                "sensor": "FileSensor",
                "target": target,
                "poke_interval_s": 0.1,
                "timeout_s": timeout,
                "soft_fail": soft,
            },
        ),
    )


def test_file_sensor_pokes_for_real(tmp_path):
    w = Workflow(
        "fs",
        tasks=[
            sh("produce", "sleep 0.4; touch data_{{ ds_nodash }}.csv"),
            file_sensor("wait", "data_{{ ds_nodash }}.csv", 10),
            file_sensor("never", "missing.csv", 0.3),
            file_sensor("optional", "missing.csv", 0.3, soft=True),
            sh("after", "echo ok"),
        ],
        edges=[Edge("wait", "after")],
    )
    res, store = run_local(w, tmp_path)
    wait = res.tasks["wait"].attempts[0]
    assert res.tasks["wait"].state == "success" and (wait.end - wait.start).total_seconds() >= 0.3
    assert "found on poke" in store.logs(res.store_id, "wait")[0]
    assert res.tasks["after"].state == "success"
    assert (
        res.tasks["never"].state == "failed"
        and res.tasks["never"].attempts[0].reason == "sensor timed out"
    )
    assert res.tasks["optional"].state == "skipped"
    assert res.notes == []  # nothing simulated


# -- crash and resume -----------------------------------------------------


def _wait_for(pred, timeout=30.0):
    end = time.time() + timeout
    while time.time() < end:
        got = pred()
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError("timed out waiting")


def test_kill_minus_9_then_resume(tmp_path):
    doc = {
        "wfconv_ir": 1,
        "workflows": [
            {
                "id": "crash",
                "schedule": {"kind": "manual", "timezone": "UTC"},
                "tasks": [
                    {"id": "a", "action": {"kind": "shell", "command": "echo a >> a.count"}},
                    {
                        "id": "b",
                        "action": {
                            "kind": "shell",
                            "command": "echo b >> b.count; if [ -f go ]; then exit 0; fi; sleep 60",
                        },
                    },
                    {"id": "c", "action": {"kind": "shell", "command": "echo c >> c.count"}},
                ],
                "edges": [{"from": "a", "to": "b"}, {"from": "b", "to": "c"}],
            }
        ],
    }
    (tmp_path / "wf.json").write_text(json.dumps(doc))
    db = tmp_path / "runs.sqlite"
    child = subprocess.Popen(
        WFCONV + ["run", "wf.json", "--executor", "local", "--date", "2024-05-01", "--db", str(db)],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:

        def b_running():
            if not db.exists():
                return None
            con = sqlite3.connect(db)
            try:
                return con.execute(
                    "SELECT run, pid FROM attempts WHERE task='b' AND pid IS NOT NULL"
                ).fetchone()
            except sqlite3.OperationalError:
                return None
            finally:
                con.close()

        run_key, b_pid = _wait_for(b_running)
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
    os.killpg(b_pid, signal.SIGKILL)  # the orphaned "sleep 60" of task b
    (tmp_path / "go").write_text("")
    out = subprocess.run(
        WFCONV
        + [
            "run",
            "--resume",
            str(run_key),
            "--executor",
            "local",
            "--db",
            str(db),
            "--format",
            "json",
            "--detail",
            "--trace",
            "trace.jsonl",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    (res,) = json.loads(out.stdout)["runs"]
    assert res["state"] == "success"
    assert (tmp_path / "a.count").read_text() == "a\n"  # not re-run
    assert (tmp_path / "b.count").read_text() == "b\nb\n"
    assert (tmp_path / "c.count").read_text() == "c\n"
    assert [t["state"] for t in res["tasks"]["b"]["tries"]] == ["interrupted", "success"]
    assert res["tasks"]["a"]["attempts"] == 1
    assert "RT130" in out.stderr
    # The trace spans the interruption: a ran once, b twice, c once.
    trace = [json.loads(x) for x in (tmp_path / "trace.jsonl").read_text().splitlines()]
    running = [(e["task"], e["attempt"]) for e in trace if e["state"] == "running"]
    assert running == [("a", 1), ("b", 1), ("b", 2), ("c", 1)]


@pytest.mark.slow
def test_dask_executor_local_cluster(tmp_path):
    from wfconv.runtime.executors import DaskExecutor

    w = Workflow(
        "dk", tasks=[sh("a", "echo {{ ds }} > a.txt"), sh("b", "exit 4")], edges=[Edge("a", "b")]
    )
    ex = DaskExecutor(None, 2)
    try:
        (res,) = execute(w, executor=ex, cwd=str(tmp_path), date="2024-05-01")
    finally:
        ex.shutdown()
    assert (tmp_path / "a.txt").read_text() == "2024-05-01\n"
    assert res.tasks["a"].state == "success"
    assert res.tasks["b"].state == "failed" and res.tasks["b"].attempts[0].reason == "exit code 4"


def test_scenario_sensor_choice_wins_over_a_real_poke(tmp_path):
    w = Workflow(
        "fs2",
        tasks=[file_sensor("wait", "missing.csv", 30), sh("after", "echo ok")],
        edges=[Edge("wait", "after")],
    )
    t0 = time.time()
    res, _ = run_local(w, tmp_path, Scenario(sensor={"wait": 2}))
    assert time.time() - t0 < 10  # not poked for 30 s
    assert res.tasks["wait"].state == "success" and res.tasks["after"].state == "success"
    assert res.notes == []


@pytest.mark.slow
def test_cli_dask_address(tmp_path, monkeypatch):
    from click.testing import CliRunner
    from distributed import LocalCluster

    from wfconv.cli import main

    monkeypatch.chdir(tmp_path)
    doc = {
        "wfconv_ir": 1,
        "workflows": [
            {
                "id": "dk",
                "schedule": {"kind": "manual", "timezone": "UTC"},
                "tasks": [
                    {
                        "id": "a",
                        "action": {"kind": "shell", "command": "echo {{ ds_nodash }} > a.txt"},
                    }
                ],
                "edges": [],
            }
        ],
    }
    (tmp_path / "wf.json").write_text(json.dumps(doc))
    with LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    ) as cluster:
        r = CliRunner().invoke(
            main,
            [
                "run",
                "wf.json",
                "--executor",
                "dask",
                "--dask-address",
                cluster.scheduler_address,
                "--date",
                "2024-05-01",
                "--no-db",
                "--format",
                "json",
            ],
        )
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["runs"][0]["tasks"]["a"]["state"] == "success"
    assert (tmp_path / "a.txt").read_text() == "20240501\n"
