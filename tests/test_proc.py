"""wfconv.proc: every process wfconv starts ends with the command that started it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

from wfconv import proc


def _alive(pid: int) -> bool:
    return proc._stat(pid) is not None


def _wait_gone(pid: int, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return False


ESCAPER = textwrap.dedent(
    """
    import subprocess, sys, time
    # A grandchild in a session of its own, holding our stdout open.
    g = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"],
                         start_new_session=True)
    print(g.pid, flush=True)
    time.sleep(float(sys.argv[1]))
    """
)


def test_a_timeout_kills_a_grandchild_that_escaped_into_its_own_session():
    began = time.monotonic()
    done = proc.run([sys.executable, "-c", ESCAPER, "60"], timeout=2)
    assert done.timed_out and done.returncode is None
    assert time.monotonic() - began < 10  # not held by the grandchild's open pipe
    grandchild = int(done.stdout.split()[0])
    assert _wait_gone(grandchild)


def test_a_finished_child_leaves_no_escaped_grandchild_behind():
    done = proc.run([sys.executable, "-c", ESCAPER, "0"], timeout=30)
    assert done.ok
    assert _wait_gone(int(done.stdout.split()[0]))


def test_output_and_exit_code_are_returned():
    done = proc.run(
        [
            sys.executable,
            "-c",
            "import sys; sys.stdout.write(sys.stdin.read().upper()); sys.exit(3)",
        ],
        input=b"abc",
        timeout=30,
    )
    assert (done.returncode, done.stdout, done.timed_out) == (3, b"ABC", False)


def test_the_memory_limit_holds():
    done = proc.run(
        [sys.executable, "-c", "x = bytearray(2 * 1024 ** 3)"], timeout=30, memory_mb=300
    )
    assert done.returncode != 0 and b"MemoryError" in done.stderr


def test_a_server_is_stopped_at_the_end_of_its_block():
    with proc.start([sys.executable, "-c", "import time; time.sleep(60)"]) as server:
        pid = server.pid
        assert _alive(pid)
    assert _wait_gone(pid)


OWNER = textwrap.dedent(
    """
    import sys, time
    from wfconv import proc
    child = proc.start([sys.executable, "-c", "import time; time.sleep(120)"])
    print(child.pid, flush=True)
    time.sleep(120)
    """
)


def _owner_with_child():
    owner = subprocess.Popen(
        [sys.executable, "-c", OWNER], stdout=subprocess.PIPE, start_new_session=True
    )
    child = int(owner.stdout.readline())
    assert _alive(child)
    return owner, child


def test_sigterm_to_wfconv_stops_its_children():
    owner, child = _owner_with_child()
    os.kill(owner.pid, signal.SIGTERM)
    owner.wait(timeout=10)
    assert _wait_gone(child)


def test_kill_9_of_wfconv_stops_its_children():
    owner, child = _owner_with_child()
    os.kill(owner.pid, signal.SIGKILL)
    owner.wait(timeout=10)
    assert _wait_gone(child)
