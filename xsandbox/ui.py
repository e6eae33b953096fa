"""The /sandbox/ HTML page (filled in below)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route


async def page(request: Request) -> Response:
    return HTMLResponse("<h1>xsandbox</h1>")


def routes() -> list[Route]:
    return [Route("/sandbox/", page, methods=["GET"])]
