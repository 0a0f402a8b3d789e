"""One Prefect API server per wfconv command, owned by ``wfconv.proc``.

Prefect runs a flow against an API server; left to itself it starts an
"ephemeral" one in a subprocess that can outlive wfconv, hold a pipe open
(``wfconv verify ... | tail`` then hangs) and print telemetry errors and
uvicorn tracebacks on the user's terminal. Instead the first engine check
that needs a server starts ``prefect server start`` as a child of
``wfconv.proc`` (its own process group, killed with wfconv, also on Ctrl-C,
SIGTERM or ``kill -9``), with analytics off, its output in a log file of a
temporary PREFECT_HOME, and every later check reuses it. ``stop()`` ends it;
the exit hook of ``wfconv.proc`` does too.

When the caller already points Prefect at a server (the test suite's session
server, ``PREFECT_API_URL``), that one is used and nothing is started.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from wfconv import proc

STARTUP_TIMEOUT_S = 120

QUIET_ENV = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_LOGGING_LEVEL": "ERROR",
    "PREFECT_SERVER_LOGGING_LEVEL": "ERROR",
    "PREFECT_UI_ENABLED": "false",
    "PREFECT_SERVER_UI_ENABLED": "false",
}

_lock = threading.Lock()
_server: _Server | None = None


class _Server:
    def __init__(self) -> None:
        self.home = Path(tempfile.mkdtemp(prefix="wfconv-prefect-"))
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        sock.close()
        self.url = f"http://127.0.0.1:{self.port}/api"
        env = {
            **os.environ,
            **QUIET_ENV,
            "PREFECT_HOME": str(self.home),
            "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{self.home}/prefect.db",
        }
        env.pop("PREFECT_API_URL", None)
        self.log = open(self.home / "server.log", "wb")  # noqa: SIM115 - closed in stop()
        self.child = proc.start(
            [
                sys.executable,
                "-m",
                "prefect",
                "server",
                "start",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--no-ui",
                "--no-services",
                "--log-level",
                "ERROR",
                "--analytics-off",
            ],
            env=env,
            stdout=self.log,
            stderr=self.log,
        )
        self._wait()

    def _wait(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.child.poll() is not None:
                break
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        tail = (self.home / "server.log").read_text(errors="replace").strip().splitlines()[-3:]
        self.stop()
        raise RuntimeError("the Prefect server did not start: " + " | ".join(tail))

    def stop(self) -> None:
        self.child.stop(grace_s=3.0)
        self.log.close()
        shutil.rmtree(self.home, ignore_errors=True)


def _already_configured() -> bool:
    try:
        from prefect.settings import PREFECT_API_URL

        return bool(PREFECT_API_URL.value())
    except Exception:
        return False


@contextlib.contextmanager
def api() -> Iterator[str | None]:
    """Prefect pointed at this command's server (started on first use) for the
    duration of the block. Yields the API URL (None: the caller's own)."""
    global _server
    if _already_configured():
        yield None
        return
    with _lock:
        if _server is None:
            _server = _Server()
        url = _server.url
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: url}):
        yield url


@contextlib.contextmanager
def shared() -> Iterator[None]:
    """This command's server in ``PREFECT_API_URL`` of the environment for the
    block, so worker processes forked inside it use it too."""
    if _already_configured():
        yield
        return
    with api() as url:
        old = os.environ.get("PREFECT_API_URL")
        os.environ["PREFECT_API_URL"] = url
        try:
            yield
        finally:
            if old is None:
                os.environ.pop("PREFECT_API_URL", None)
            else:
                os.environ["PREFECT_API_URL"] = old


def stop() -> None:
    """Stop this command's server, if one was started."""
    global _server
    with _lock:
        if _server is not None:
            _server.stop()
            _server = None
