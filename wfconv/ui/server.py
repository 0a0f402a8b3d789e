"""The uvicorn server of ``wfconv ui``: on a socket we bind ourselves (so
port 0 gives a free port we can print), and in a thread with a clean stop
for tests and benchmarks."""

from __future__ import annotations

import socket
import threading
import time

import uvicorn


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError:
        sock.close()
        raise
    sock.listen(64)
    return sock


def url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def server(app, sock: socket.socket) -> uvicorn.Server:
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    srv = uvicorn.Server(config)
    srv.sock = sock  # for serve()
    return srv


def serve(app, sock: socket.socket) -> None:
    """Serve until Ctrl-C (uvicorn handles the signals)."""
    srv = server(app, sock)
    srv.run(sockets=[sock])


class Background:
    """The app served from a thread: ``with Background(app) as base_url:``."""

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0):
        self.sock = bind(host, port)
        self.srv = server(app, self.sock)
        # No signal handlers from a thread: the caller owns Ctrl-C.
        self.srv.install_signal_handlers = lambda: None
        self.thread = threading.Thread(
            target=self.srv.run, kwargs={"sockets": [self.sock]}, name="wfconv-ui", daemon=True
        )

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.srv.started and self.thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        if not self.srv.started:
            self.stop()
            raise RuntimeError("the UI server did not start")
        return url(self.sock)

    def stop(self) -> None:
        self.srv.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()

    def __exit__(self, *exc) -> None:
        self.stop()
