"""The sandbox's POSTs to a webhook: kept-alive connections, a new one when the webhook closed
the old, and no answer reported as an error, never as a status."""

from __future__ import annotations

import socket
import threading

import pytest

from xsandbox.webhook_posts import WebhookPosts


class Webhook:
    """Answers each POST 200 on a raw socket; `close_after` answers per connection, then it
    closes the connection without saying so (as a webhook whose keep-alive ran out)."""

    def __init__(self, close_after: int) -> None:
        self.close_after = close_after
        self.bodies: list[bytes] = []
        self.connections = 0
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}/x/webhook/?a=1"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.connections += 1
            with conn, conn.makefile("rb") as reader:
                for _ in range(self.close_after):
                    head = b""
                    while not head.endswith(b"\r\n\r\n"):
                        line = reader.readline()
                        if not line:
                            break
                        head += line
                    if not head:
                        break
                    assert head.startswith(b"POST /x/webhook/?a=1 HTTP/1.1")
                    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                                  if line.lower().startswith(b"content-length"))
                    self.bodies.append(reader.read(length))
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")


def test_posts_share_a_kept_alive_connection():
    webhook = Webhook(close_after=100)
    posts = WebhookPosts()

    assert [posts.post(webhook.url, f"{n}".encode(), {}, timeout=5) for n in range(3)] == [200, 200, 200]

    assert webhook.bodies == [b"0", b"1", b"2"]
    assert webhook.connections == 1


def test_a_connection_the_webhook_closed_is_replaced_and_each_post_arrives_once():
    webhook = Webhook(close_after=1)
    posts = WebhookPosts()

    assert [posts.post(webhook.url, f"{n}".encode(), {}, timeout=5) for n in range(3)] == [200, 200, 200]

    assert webhook.bodies == [b"0", b"1", b"2"]
    assert webhook.connections == 3


def test_no_webhook_listening_is_an_error():
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
    with pytest.raises(OSError):
        WebhookPosts().post(f"http://127.0.0.1:{port}/x/webhook/", b"{}", {}, timeout=5)


def test_a_thread_keeps_connections_to_a_few_webhooks_only():
    from xsandbox import webhook_posts

    webhooks = [Webhook(close_after=100) for _ in range(webhook_posts.ORIGINS_KEPT + 2)]
    posts = WebhookPosts()
    for webhook in webhooks:
        assert posts.post(webhook.url, b"{}", {}, timeout=5) == 200

    assert len(posts._local.conns) == webhook_posts.ORIGINS_KEPT
    assert posts.post(webhooks[-1].url, b"{}", {}, timeout=5) == 200
    assert webhooks[-1].connections == 1  # the newest are kept
