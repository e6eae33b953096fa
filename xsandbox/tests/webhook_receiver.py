"""A stand-in for the helpdesk's webhook in sandbox tests: answers X's CRC with a given secret
and records every delivery (raw body and signature header)."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


def sign(message: bytes, secret: str) -> str:
    return "sha256=" + base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


class Receiver:
    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.deliveries: list[tuple[bytes, str]] = []
        self.crc_answers_wrong = False
        # Cleared, a POST is recorded and then held unanswered until it is set again: a webhook
        # that is slow for as long as a test needs.
        self.answering = threading.Event()
        self.answering.set()
        self.lock = threading.Lock()
        self.url = ""

    def bodies(self) -> list[dict]:
        with self.lock:
            return [json.loads(body) for body, _ in self.deliveries]

    def wait_for(self, count: int, timeout: float = 5.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.deliveries) >= count:
                break
            time.sleep(0.01)
        return self.bodies()


@contextlib.contextmanager
def running_receiver(secret: str):
    receiver = Receiver(secret)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            token = parse_qs(urlsplit(self.path).query).get("crc_token", [""])[0]
            secret = "wrong" if receiver.crc_answers_wrong else receiver.secret
            body = json.dumps({"response_token": sign(token.encode(), secret)}).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            with receiver.lock:
                receiver.deliveries.append((body, self.headers.get("x-twitter-webhooks-signature", "")))
            receiver.answering.wait(30)
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/webhook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.answering.set()
        server.shutdown()
        server.server_close()
