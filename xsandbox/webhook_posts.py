"""The sandbox's POSTs to webhooks: HTTP/1.1 on kept-alive connections, one per delivery thread
and webhook origin, straight to the URL (never through a proxy).

The standard library's `http.client` rather than urllib3 (or requests): under a burst the
sandbox shares the machine with the webhook it times, and urllib3's pool, header and retry
layers cost about three times the CPU of the POST itself (requests twice that again).
"""

from __future__ import annotations

import http.client
import select
import threading
from urllib.parse import urlsplit

ORIGINS_KEPT = 8  # connections a delivery thread keeps open, to as many webhook origins


class WebhookPosts:
    def __init__(self) -> None:
        self._local = threading.local()  # each thread's connections, by (scheme, host:port)

    def post(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
        """POST and return the answer's status. A connection that broke before any answer (most
        often a kept-alive one the webhook closed as it was reused) is tried again, once, at once,
        on a new connection: X does the same, and the webhook ignores a repeat it already holds.
        Raises OSError or http.client.HTTPException when there is no answer."""
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        conn = self._connection(parts, timeout)
        reused = conn.sock is not None
        try:
            return self._post_on(conn, target, body, headers)
        except (ConnectionError, http.client.BadStatusLine):  # RemoteDisconnected is both
            if not reused:
                raise  # a new connection refused or broken: no answer, as from X's side
            return self._post_on(self._connection(parts, timeout, fresh=True), target, body, headers)

    def _post_on(self, conn: http.client.HTTPConnection, target: str, body: bytes, headers: dict[str, str]) -> int:
        try:
            conn.request("POST", target, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
        except BaseException:
            conn.close()  # whatever was half sent or read, the next POST starts on a new connection
            raise
        if response.will_close:
            conn.close()  # http.client opens it again for the next request
        return response.status

    def _connection(self, parts, timeout: float, fresh: bool = False) -> http.client.HTTPConnection:
        conns: dict[tuple[str, str], http.client.HTTPConnection] = self._local.__dict__.setdefault("conns", {})
        key = (parts.scheme, parts.netloc)
        conn = conns.get(key)
        if conn is not None and (fresh or _closed_by_peer(conn)):
            conn.close()
            conn = None
        if conn is None:
            if len(conns) >= ORIGINS_KEPT:  # webhooks come and go (a test suite starts hundreds)
                conns.pop(next(iter(conns))).close()
            kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
            conn = conns[key] = kind(parts.hostname, parts.port, timeout=timeout)
        conn.timeout = timeout
        if conn.sock is not None:
            conn.sock.settimeout(timeout)
        return conn


def _closed_by_peer(conn: http.client.HTTPConnection) -> bool:
    """Whether an idle kept-alive connection has been closed by the webhook (it reads as ready:
    end of file), so the POST goes on a new one instead of failing on it first."""
    if conn.sock is None:
        return False
    poller = select.poll()
    poller.register(conn.sock, select.POLLIN)
    return bool(poller.poll(0))
