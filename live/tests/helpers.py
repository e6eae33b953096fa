"""Sockets for tests: a real consumer driven over ASGI with its user set as the session
middleware would, and the database calls the scenarios make from the event loop.

(channels.testing's WebsocketCommunicator does the same, but importing channels.testing
needs daphne, a second web server we do not use.)"""

from __future__ import annotations

import asyncio
import json

from asgiref.testing import ApplicationCommunicator
from channels.db import database_sync_to_async
from django.conf import settings

from live.consumers import AgentConsumer


class WebsocketCommunicator(ApplicationCommunicator):
    def __init__(self, application, path: str):
        super().__init__(application, {"type": "websocket", "path": path, "headers": [], "subprotocols": []})

    async def connect(self, timeout: float = 3) -> tuple[bool, int | None]:
        await self.send_input({"type": "websocket.connect"})
        answer = await self.receive_output(timeout)
        return answer["type"] == "websocket.accept", answer.get("code")

    async def send_json_to(self, data: dict) -> None:
        await self.send_input({"type": "websocket.receive", "text": json.dumps(data)})

    async def receive_json_from(self, timeout: float = 1) -> dict:
        # Not receive_output(): on a timeout it cancels the application, and a quiet socket
        # is what several tests expect.
        if self.future.done():
            self.future.result()
        answer = await asyncio.wait_for(self.output_queue.get(), timeout)
        assert answer["type"] == "websocket.send", answer
        return json.loads(answer["text"])

    async def disconnect(self, code: int = 1000, timeout: float = 3) -> None:
        await self.send_input({"type": "websocket.disconnect", "code": code})
        await self.wait(timeout)


async def open_socket(user, **subscribe) -> WebsocketCommunicator:
    socket = WebsocketCommunicator(AgentConsumer.as_asgi(), "/live/ws/")
    socket.scope["user"] = user
    connected, _ = await socket.connect()
    assert connected
    if subscribe:
        await socket.send_json_to({"type": "subscribe", **subscribe})
    return socket


async def messages_within(socket: WebsocketCommunicator, seconds: float) -> list[dict]:
    """Everything the socket is sent in the next `seconds`."""
    received = []
    deadline = asyncio.get_running_loop().time() + seconds
    while (left := deadline - asyncio.get_running_loop().time()) > 0:
        try:
            received.append(await socket.receive_json_from(timeout=left))
        except TimeoutError:
            break
    return received


async def first_of(socket: WebsocketCommunicator, kind: str, seconds: float = 3.0) -> dict:
    deadline = asyncio.get_running_loop().time() + seconds
    while (left := deadline - asyncio.get_running_loop().time()) > 0:
        message = await socket.receive_json_from(timeout=left)
        if message["type"] == kind:
            return message
        if message["type"] == "ping":  # as a page does, or the server takes it for gone
            await socket.send_json_to({"type": "pong"})
    raise AssertionError(f"no {kind!r} message within {seconds} s")


def in_db(function):
    return database_sync_to_async(function)


async def session_socket(client, **subscribe) -> WebsocketCommunicator:
    """A socket that carries the test client's session cookie through Channels' own session
    and auth middleware, as a browser's does: the way to test what follows a logout."""
    from channels.auth import AuthMiddlewareStack

    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    socket = WebsocketCommunicator(AuthMiddlewareStack(AgentConsumer.as_asgi()), "/live/ws/")
    socket.scope["headers"] = [(b"cookie", cookie.encode())]
    connected, _ = await socket.connect()
    assert connected
    if subscribe:
        await socket.send_json_to({"type": "subscribe", **subscribe})
    return socket


async def listen(socket: WebsocketCommunicator, seconds: float, *, answer_pings: bool = True) -> tuple[list[dict], int | None]:
    """Everything the socket is sent for `seconds` or until the server closes it: the
    messages and the close code (None if still open). A page answers the server's pings; a
    socket that vanished (laptop lid, network gone) answers nothing, and sends no close."""
    received: list[dict] = []
    deadline = asyncio.get_running_loop().time() + seconds
    while (left := deadline - asyncio.get_running_loop().time()) > 0:
        try:
            answer = await asyncio.wait_for(socket.output_queue.get(), left)
        except TimeoutError:
            break
        if answer["type"] == "websocket.close":
            return received, answer.get("code", 1000)
        message = json.loads(answer["text"])
        if message["type"] == "ping" and answer_pings:
            await socket.send_json_to({"type": "pong"})
        received.append(message)
    return received, None
