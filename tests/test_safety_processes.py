"""Never leak a process: the Luigi import child, the local executor's tasks and
live runs of the run store, as a user running wfconv sees them."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from wfconv import proc

ROOT = Path(__file__).resolve().parent.parent
WFCONV = [str(Path(sys.executable).parent / "wfconv")]


def _alive(pid: int) -> bool:
    return proc._stat(pid) is not None


def _wait(pred, seconds: float = 30.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        got = pred()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def _pid_file(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text else None


# A Luigi module whose import never ends, and which starts a grandchild in a
# session of its own (out of the import child's process group).
ESCAPING_MODULE = textwrap.dedent(
    """
    import os, subprocess, sys, time
    import luigi

    here = os.path.dirname(os.path.abspath(__file__))
    g = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"],
                         start_new_session=True)
    open(os.path.join(here, "grandchild.pid"), "w").write(str(g.pid))
    open(os.path.join(here, "child.pid"), "w").write(str(os.getpid()))
    time.sleep(300)


    class Report(luigi.Task):
        def run(self):
            pass
    """
)


def test_the_luigi_import_timeout_bounds_a_module_whose_grandchild_escaped(tmp_path):
    (tmp_path / "escaping.py").write_text(ESCAPING_MODULE)
    began = time.monotonic()
    r = subprocess.run(
        [*WFCONV, "parse", str(tmp_path / "escaping.py")],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "WFCONV_LUIGI_TIMEOUT": "3"},
    )
    took = time.monotonic() - began
    assert r.returncode == 0, r.stderr
    assert took < 20  # the 3 s bound held; the issue saw 92.9 s with a 20 s timeout
    ir = json.loads(r.stdout)
    (wf,) = ir["workflows"]
    assert [t["id"] for t in wf["tasks"]] == ["Report"]  # read statically instead
    assert any(d["code"] == "LG003" for d in wf["diagnostics"])
    for name in ("child.pid", "grandchild.pid"):
        assert not _alive(_pid_file(tmp_path / name))


def test_the_luigi_import_child_has_a_memory_cap(tmp_path):
    (tmp_path / "hog.py").write_text(
        "import luigi\nx = bytearray(3 * 1024 ** 3)\n\n\n"
        "class Report(luigi.Task):\n    def run(self):\n        pass\n"
    )
    r = subprocess.run(
        [*WFCONV, "parse", str(tmp_path / "hog.py")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    (wf,) = json.loads(r.stdout)["workflows"]
    (note,) = [d for d in wf["diagnostics"] if d["code"] == "LG002"]
    assert "MemoryError: the import child may use 1024 MB" in note["message"]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=str)
def test_stopping_wfconv_stops_the_luigi_import_child(tmp_path, sig):
    (tmp_path / "escaping.py").write_text(ESCAPING_MODULE)
    wf = subprocess.Popen(
        [*WFCONV, "parse", str(tmp_path / "escaping.py")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "WFCONV_LUIGI_TIMEOUT": "120"},
    )
    try:
        child = _wait(lambda: _pid_file(tmp_path / "child.pid"))
        grandchild = _wait(lambda: _pid_file(tmp_path / "grandchild.pid"))
        wf.send_signal(sig)
        wf.wait(timeout=30)
        assert _wait(lambda: not _alive(child), 10)
        if sig != signal.SIGKILL:
            # The handlers kill the whole tree, escaped grandchild included.
            # (After kill -9 nothing in wfconv runs: only the kernel's
            # parent-death signal reaches the direct child.)
            assert _wait(lambda: not _alive(grandchild), 10)
        if sig == signal.SIGINT:
            assert wf.returncode == 130 and b"interrupted" in wf.stderr.read()
    finally:
        if wf.poll() is None:
            wf.kill()
        for name in ("child.pid", "grandchild.pid"):
            pid = _pid_file(tmp_path / name)
            if pid and _alive(pid):
                os.kill(pid, signal.SIGKILL)


# -- the local executor and the run store --------------------------------------


def _workflow(tmp_path: Path, command_b: str) -> None:
    doc = {
        "wfconv_ir": 1,
        "workflows": [
            {
                "id": "live",
                "schedule": {"kind": "manual", "timezone": "UTC"},
                "tasks": [
                    {"id": "a", "action": {"kind": "shell", "command": "echo a >> a.count"}},
                    {"id": "b", "action": {"kind": "shell", "command": command_b}},
                ],
                "edges": [{"from": "a", "to": "b"}],
            }
        ],
    }
    (tmp_path / "wf.json").write_text(json.dumps(doc))


def _running_b(db: Path):
    if not db.exists():
        return None
    con = sqlite3.connect(db)
    try:
        return con.execute(
            "SELECT run, pid FROM attempts WHERE task='b' AND state='running' AND pid IS NOT NULL"
        ).fetchone()
    except sqlite3.OperationalError:
        return None
    finally:
        con.close()


def _attempts(db: Path) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return list(con.execute("SELECT task, attempt, state FROM attempts ORDER BY task, attempt"))
    finally:
        con.close()


def test_resuming_a_live_run_is_refused_and_leaves_its_attempts_alone(tmp_path):
    _workflow(tmp_path, "echo b >> b.count; while [ ! -f go ]; do sleep 0.1; done")
    db = tmp_path / "runs.sqlite"
    live = subprocess.Popen(
        [*WFCONV, "run", "wf.json", "--executor", "local", "--db", str(db)],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        run, _ = _wait(lambda: _running_b(db))
        second = subprocess.run(
            [*WFCONV, "run", "--resume", str(run), "--executor", "local", "--db", str(db)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 2
        assert f"run {run} is being executed right now by process {live.pid}" in second.stderr
        assert _attempts(db) == [("a", 1, "success"), ("b", 1, "running")]  # not "interrupted"
        (tmp_path / "go").write_text("")
        assert live.wait(timeout=60) == 0
    finally:
        if live.poll() is None:
            live.kill()
    assert _attempts(db) == [("a", 1, "success"), ("b", 1, "success")]
    assert (tmp_path / "b.count").read_text() == "b\n"


def test_two_resumes_of_one_run_never_both_execute_it(tmp_path):
    _workflow(tmp_path, "echo b >> b.count; if [ -f go ]; then sleep 1; exit 0; fi; sleep 60")
    db = tmp_path / "runs.sqlite"
    first = subprocess.Popen(
        [*WFCONV, "run", "wf.json", "--executor", "local", "--db", str(db)],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    run, b_pid = _wait(lambda: _running_b(db))
    first.send_signal(signal.SIGKILL)  # the runner dies; its lock goes with it
    first.wait(timeout=10)
    os.killpg(b_pid, signal.SIGKILL)  # what kill -9 leaves: b's own process group
    (tmp_path / "go").write_text("")
    cmd = [*WFCONV, "run", "--resume", str(run), "--executor", "local", "--db", str(db)]
    both = [
        subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    codes = sorted(p.wait(timeout=120) for p in both)
    errors = b"".join(p.stderr.read() for p in both).decode()
    assert codes == [0, 2], errors
    assert "is being executed right now" in errors
    assert (tmp_path / "b.count").read_text() == "b\nb\n"  # the crash, then one resume
    assert _attempts(db) == [("a", 1, "success"), ("b", 1, "interrupted"), ("b", 2, "success")]


def test_a_task_timeout_kills_a_background_grandchild_in_its_own_session(tmp_path):
    from wfconv.runtime.executors import Work, execute_work

    script = (
        f"{sys.executable} -c 'import subprocess,sys; "
        'g=subprocess.Popen([sys.executable,"-c","import time; time.sleep(300)"],'
        "start_new_session=True); print(g.pid, flush=True)'; sleep 60"
    )
    began = time.monotonic()
    out = execute_work(Work("t", 1, "shell", command=script, timeout_s=2))
    assert time.monotonic() - began < 15
    assert out.state == "failed" and "timed out after 2 s" in out.reason
    assert _wait(lambda: not _alive(int(out.log.split()[0])), 10)
