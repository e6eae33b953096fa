"""Starlette application assembly: X routes, OAuth, control API, HTML pages, lifecycle."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from . import activity, activity_routes, api, auth, compliance, control, problems, ui
from .sandbox import Sandbox, SandboxConfig
from .scenarios import Scenario, read_scenario

log = logging.getLogger("xsandbox")
SAVE_INTERVAL = 1.0


def create_app(sandbox: Sandbox | None = None, config: SandboxConfig | None = None) -> Starlette:
    sb = sandbox or Sandbox(config)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        background: set[asyncio.Task] = app.state.background
        sb.load_state_file()
        # A saved state already holds the scenario's users; loading it again would clash.
        if sb.config.scenario_file and not sb.store.users:
            data = read_scenario(sb.config.scenario_file)
            runner = Scenario(sb)
            runner.load(data)
            if sb.config.play and data.get("play"):
                background.add(asyncio.create_task(runner.play(data["play"])))
        if sb.config.state_file:
            background.add(asyncio.create_task(_autosave(sb)))
        try:
            yield
        finally:
            for task in background:
                task.cancel()
            sb.save_state_file()

    async def root(request: Request) -> Response:
        return RedirectResponse("/sandbox/", 302)

    async def fallback(request: Request, exc: Exception) -> Response:
        return problems.problem_response(problems.blank_problem(404, "Not Found Error", "Sorry, that page does not exist"))

    # The Activity API (webhooks, subscriptions, stream) observes the store's writes.
    activity.install(sb)
    compliance.install(sb)
    # The control API first: Starlette tries routes in order, and under a bench's burst nearly
    # every request is a control POST (a post, a DM, a like); no other route's path is under it.
    routes = [Route("/", root), *control.routes(), *api.routes(), *activity_routes.routes(), *compliance.routes(),
              *auth.routes(), *ui.routes()]
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={404: fallback})
    app.state.sandbox = sb
    app.state.background = set()
    return app


async def _autosave(sb: Sandbox) -> None:
    """Persist at most once a second, and only when something changed."""
    while True:
        await asyncio.sleep(SAVE_INTERVAL)
        if sb.dirty:
            try:
                sb.save_state_file()
            except OSError:
                log.exception("could not save sandbox state")
