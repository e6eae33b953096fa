"""The helpdesk served over ASGI (pages and sockets, as in production) by uvicorn in a thread
of the test process, so it shares the test database. It can be stopped and started again on
the same port, which is how the browser tests drop every socket for real."""

from __future__ import annotations

import socket
import threading
import time

import uvicorn


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AsgiServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None

    def start(self) -> AsgiServer:
        config = uvicorn.Config(
            "helpdesk.asgi:application", host="127.0.0.1", port=self.port, ws="websockets-sansio",
            lifespan="off", log_level="warning", timeout_graceful_shutdown=2,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="asgi-test-server", daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
            self.thread.join(timeout=15)
            self.server = None
        # The server's threads kept database connections of their own; close them so the
        # test database can be flushed.
        from django.db import connections

        connections.close_all()
