"""One owner for every process wfconv starts.

wfconv starts other programs: the child that imports a Luigi module, Airflow's
interpreter in its side virtualenv, Prefect's API server, the shell commands of
``wfconv run --executor local``. Each of them must end when wfconv's command
ends, whatever happens: a timeout, Ctrl-C, ``kill``, or ``kill -9`` of wfconv
itself. This module is the single place that knows how:

- every child starts in a new session (its own process group), so one signal
  reaches the child and everything it started in that group;
- on Linux the child asks the kernel to kill it when wfconv dies
  (``PR_SET_PDEATHSIG``), which covers ``kill -9`` of wfconv;
- wfconv makes itself a *child subreaper* (``PR_SET_CHILD_SUBREAPER``): a
  grandchild that escapes into a session of its own (``Popen(...,
  start_new_session=True)``) and is orphaned comes back to wfconv instead of
  init, so ``stop`` can still find and kill it;
- the tree below a child is read from ``/proc`` before it is killed, so
  descendants in other process groups are killed too;
- children get resource limits (address space, CPU seconds) when asked;
- ``atexit`` and SIGTERM/SIGHUP/SIGINT handlers stop every live child.

Use ``run`` for a command that finishes (its output captured, bounded by a
timeout) and ``start`` for a server that lives until ``stop`` (or the end of a
``with`` block).
"""

from __future__ import annotations

import atexit
import ctypes
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36

_live: dict[int, Child] = {}
_lock = threading.RLock()  # re-entrant: the signal handlers take it too
# Held while a child is created and registered, and while the orphans of a
# stopped child are looked for: a sibling that another thread has just
# started (its parent is wfconv, its session new) is then already in _live,
# never taken for an orphan.
_spawn_lock = threading.RLock()
_installed = False


def _libc():
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def _prctl(option: int, value: int) -> None:
    libc = _libc()
    if libc is not None and hasattr(libc, "prctl"):
        libc.prctl(option, value, 0, 0, 0)


def _install() -> None:
    """Subreaper, exit hook and signal handlers, once per process."""
    global _installed
    if _installed:
        return
    _installed = True
    if sys.platform.startswith("linux"):
        _prctl(_PR_SET_CHILD_SUBREAPER, 1)
    atexit.register(stop_all)
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        previous = signal.getsignal(signum)
        signal.signal(signum, _make_handler(signum, previous))


def _make_handler(signum, previous):
    def handler(received, frame):
        stop_all()
        if callable(previous):
            previous(received, frame)
        elif previous == signal.SIG_IGN:
            return
        else:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)

    return handler


def _preexec(memory_mb: int | None, cpu_s: int | None):
    def setup() -> None:
        if sys.platform.startswith("linux"):
            _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if memory_mb:
            limit = memory_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        if cpu_s:
            resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 5))

    return setup


def _stat(pid: int) -> tuple[int, int, int] | None:
    """(ppid, session id, start time in clock ticks) of a live process; None
    for a process that is gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # pid (comm) state ppid pgrp session ...: comm may hold spaces and parentheses.
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[1]), int(fields[3]), int(fields[19])


def _processes() -> dict[int, tuple[int, int, int]]:
    proc = Path("/proc")
    out = {}
    if proc.is_dir():
        for entry in proc.iterdir():
            if entry.name.isdigit():
                info = _stat(int(entry.name))
                if info is not None:
                    out[int(entry.name)] = info
    return out


def descendants(pid: int, table: dict[int, tuple[int, int, int]] | None = None) -> list[int]:
    """Every live process below ``pid`` (Linux ``/proc``; empty elsewhere)."""
    table = _processes() if table is None else table
    children: dict[int, list[int]] = {}
    for child, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(child)
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _left_behind(p: subprocess.Popen, started: int | None) -> list[int]:
    """Processes that belong to the child ``p``: below it, in its session, or
    orphans it left that were re-parented to this subreaper after it started."""
    me, my_session = os.getpid(), os.getsid(0)
    with _spawn_lock:
        table = _processes()
        with _lock:
            ours = set(_live)
    found = set(descendants(p.pid, table))
    for pid, (ppid, session, start_time) in table.items():
        if session == p.pid:
            found.add(pid)
        elif (
            started is not None
            and ppid == me
            and session != my_session
            and start_time >= started
            and pid not in ours
        ):
            found.add(pid)
            found.update(descendants(pid, table))
    found.discard(p.pid)
    return sorted(found)


def _kill_tree(p: subprocess.Popen, grace_s: float, started: int | None = None) -> None:
    """SIGTERM the child's group and everything it left, then SIGKILL what is left."""
    targets = [p.pid, *_left_behind(p, started)]
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(p.pid, sig)  # start_new_session: the group id is the child's pid
        except (ProcessLookupError, PermissionError):
            pass
        for pid in targets:
            try:
                os.kill(pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
        if sig == signal.SIGTERM:
            deadline = time.monotonic() + grace_s
            while time.monotonic() < deadline and (p.poll() is None or _alive(targets[1:])):
                time.sleep(0.02)
            if p.poll() is not None and not _alive(targets[1:]):
                break
    try:
        p.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
    _reap(targets[1:])


def _alive(pids: Sequence[int]) -> bool:
    return any(_stat(pid) is not None for pid in pids)


def _reap(pids: Sequence[int]) -> None:
    """Collect the zombies of killed orphans re-parented to this subreaper
    (only those: waiting for any child would steal other code's exit codes)."""
    for pid in pids:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass


@dataclass
class Finished:
    """What ``run`` returns."""

    returncode: int | None  # None when it was killed for running too long
    stdout: bytes
    stderr: bytes
    timed_out: bool = False
    seconds: float = 0.0
    pid: int | None = None

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out


class Child:
    """A started process; ``stop`` kills it with everything below it."""

    def __init__(self, popen: subprocess.Popen):
        self.popen = popen
        self.pid = popen.pid
        info = _stat(popen.pid)
        self.started = info[2] if info else None

    def poll(self) -> int | None:
        return self.popen.poll()

    def stop(self, grace_s: float = 3.0) -> None:
        with _lock:
            _live.pop(self.pid, None)
        _kill_tree(self.popen, grace_s, self.started)
        for stream in (self.popen.stdin, self.popen.stdout, self.popen.stderr):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass

    def __enter__(self) -> Child:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start(
    cmd: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike | None = None,
    memory_mb: int | None = None,
    cpu_s: int | None = None,
    stdin=subprocess.DEVNULL,
    stdout=subprocess.DEVNULL,
    stderr=subprocess.DEVNULL,
) -> Child:
    """Start ``cmd`` owned by this module (see the module doc)."""
    _install()
    with _spawn_lock:
        popen = subprocess.Popen(
            list(cmd),
            env=dict(env) if env is not None else None,
            cwd=cwd,
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
            preexec_fn=_preexec(memory_mb, cpu_s),
        )
        child = Child(popen)
        with _lock:
            _live[popen.pid] = child
    return child


def run(
    cmd: Sequence[str],
    *,
    timeout: float | None,
    input: bytes | None = None,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike | None = None,
    memory_mb: int | None = None,
    cpu_s: int | None = None,
    merge_stderr: bool = False,
    max_bytes: int | None = None,
    on_start: Callable[[Child], None] | None = None,
) -> Finished:
    """Run ``cmd`` to its end, at most ``timeout`` seconds (None: no bound);
    on a timeout the whole tree below it is killed and ``timed_out`` is set.
    Output is read until the child exits, not until every descendant closes
    the pipes (a grandchild that keeps them open cannot hold wfconv).

    ``merge_stderr`` sends stderr into stdout (one interleaved log);
    ``max_bytes`` bounds what is kept of each stream (its first and last
    halves), so a child that prints gigabytes cannot fill wfconv's memory;
    ``on_start`` is called with the started child (to record its pid)."""
    began = time.monotonic()
    child = start(
        cmd,
        env=env,
        cwd=cwd,
        memory_mb=memory_mb,
        cpu_s=cpu_s,
        stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE,
    )
    out = _Sink(max_bytes)
    err = _Sink(max_bytes)
    streams = [(child.popen.stdout, out)]
    if not merge_stderr:
        streams.append((child.popen.stderr, err))
    readers = [threading.Thread(target=_drain, args=pair, daemon=True) for pair in streams]
    for r in readers:
        r.start()
    timed_out = False
    try:
        if on_start is not None:
            on_start(child)
        if input is not None:
            try:
                child.popen.stdin.write(input)
                child.popen.stdin.close()
            except (BrokenPipeError, OSError):
                pass
        child.popen.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
    except BaseException:
        child.stop(grace_s=0.5)
        raise
    # The child is done (or is killed now): its descendants go with it.
    returncode = None if timed_out else child.popen.returncode
    child.stop(grace_s=0.5 if timed_out else 0.2)
    for r in readers:
        r.join(timeout=2)
    return Finished(
        returncode, out.value(), err.value(), timed_out, time.monotonic() - began, child.pid
    )


class _Sink:
    """What is kept of one output stream: all of it, or (past ``limit``
    bytes) its first and last halves around a marker."""

    def __init__(self, limit: int | None):
        self.limit = limit
        self.head: list[bytes] = []
        self.size = 0
        self.tail = bytearray()
        self.dropped = 0

    def add(self, chunk: bytes) -> None:
        if self.limit is None or self.size + len(chunk) <= self.limit // 2:
            self.head.append(chunk)
            self.size += len(chunk)
            return
        self.tail += chunk
        excess = len(self.tail) - self.limit // 2
        if excess > 0:
            del self.tail[:excess]
            self.dropped += excess

    def value(self) -> bytes:
        head = b"".join(self.head)
        if not self.dropped:
            return head + bytes(self.tail)
        return head + b"\n[... %d bytes not kept ...]\n" % self.dropped + bytes(self.tail)


def _drain(stream, sink: _Sink) -> None:
    try:
        while True:
            chunk = stream.read1(65536) if hasattr(stream, "read1") else stream.read(65536)
            if not chunk:
                return
            sink.add(chunk)
    except (OSError, ValueError):
        return


def stop_pid(pid: int) -> None:
    """Stop the live child ``pid`` (started here) with everything below it."""
    with _lock:
        child = _live.get(pid)
    if child is not None:
        child.stop(grace_s=0.5)


def stop_all() -> None:
    """Stop every child still alive (the exit hook and signal handlers call it)."""
    with _lock:
        live = list(_live.values())
        _live.clear()
    for child in live:
        _kill_tree(child.popen, 0.5, child.started)
