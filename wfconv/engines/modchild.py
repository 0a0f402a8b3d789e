"""What the Prefect and Luigi children (``prefect_child``, ``luigi_child``)
share: the loop over a job's modules (each with its own importable folders and
time limit, one module's failure kept to itself) and the recorder that stops
a task body at the command it would start.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys

from wfconv.engines.importpath import importable

MODULE_TIMEOUT_S = 60


class Captured(BaseException):
    """Raised by the recorder: stops the task body at its command."""

    def __init__(self, command):
        super().__init__("captured")
        self.command = command


def _record(*args, **kwargs):
    raise Captured(args[0] if args else kwargs.get("args"))


_ENTRY_POINTS = (
    (subprocess, "run"),
    (subprocess, "Popen"),
    (subprocess, "call"),
    (subprocess, "check_call"),
    (subprocess, "check_output"),
    (os, "system"),
)


@contextlib.contextmanager
def recording():
    """Every ``subprocess``/``os.system`` entry point raises ``Captured``
    with the command instead of starting it."""
    saved = [getattr(*k) for k in _ENTRY_POINTS]
    try:
        for owner, name in _ENTRY_POINTS:
            setattr(owner, name, _record)
        yield
    finally:
        for (owner, name), fn in zip(_ENTRY_POINTS, saved, strict=True):
            setattr(owner, name, fn)


def command_of(call):
    """The command line ``call()`` (a task body) would start, under the
    recorder; {"error": ...} when it starts none or cannot build one."""
    try:
        with recording():
            call()
        return {"error": "no command was run"}
    except Captured as cap:
        command = cap.command
        if not isinstance(command, (list, tuple)):
            return command
        parts = [str(part) for part in command]
        # wfconv's shell tasks run ["bash", "-c", command]: the command is the text
        return parts[2] if parts[:2] == ["bash", "-c"] and len(parts) == 3 else " ".join(parts)
    except Exception as exc:  # the command could not be built
        return {"error": type(exc).__name__ + ": " + str(exc)[:200]}


def _too_long(signum, frame):
    raise TimeoutError(f"inspecting the module took more than {MODULE_TIMEOUT_S} s")


def each_module(inspect, error_key: str) -> None:
    """``python -m <child> JOB.json OUT.json``: ``inspect(entry, n)`` for every
    entry of the job's ``modules`` with the entry's folders importable, the
    answers written to OUT.json by the entry's ``key`` (default: its file);
    an entry that raises or times out answers ``{error_key: why}``."""
    import logging

    job = json.load(open(sys.argv[1], encoding="utf-8"))
    logging.disable(logging.CRITICAL)
    signal.signal(signal.SIGALRM, _too_long)
    result = {}
    for n, entry in enumerate(job["modules"]):
        key = entry.get("key", entry["file"])
        signal.alarm(MODULE_TIMEOUT_S)
        try:
            with importable([os.path.dirname(entry["file"]), *entry.get("paths", [])]):
                result[key] = inspect(entry, n)
        except BaseException as exc:  # one module must not hide the others
            result[key] = {error_key: f"{type(exc).__name__}: {exc}"[:500]}
        finally:
            signal.alarm(0)
        print("WFCONV_MODULE " + entry["file"], flush=True)
    with open(sys.argv[2], "w", encoding="utf-8") as fh:
        json.dump(result, fh, default=str)
