"""Fixtures for sandbox tests (and a model for other teams' tests).

``sandbox_server`` starts one real server per test session; ``sandbox`` hands it to a test
after a reset, so tests stay independent yet pay the start-up cost once.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from xsandbox.testing import SandboxClient, running_sandbox

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxClient]:
    with running_sandbox(vocabulary="tweet", rate_limits="x") as sb:
        yield sb


@pytest.fixture
def sandbox(sandbox_server: SandboxClient) -> SandboxClient:
    sandbox_server.reset()
    return sandbox_server


@pytest.fixture
def brand(sandbox: SandboxClient) -> dict:
    """@AcmeSupport with an all-scopes, never-expiring token in ``brand['token']``."""
    user = sandbox.create_user("AcmeSupport", name="Acme Support", brand=True)
    user["token"] = sandbox.mint_token(user["id"])["access_token"]
    return user


@pytest.fixture
def x(sandbox: SandboxClient, brand: dict):
    """``x(method, path, token=brand token, **requests kwargs)`` -> requests.Response against the sandbox."""

    def call(method: str, path: str, token: str | None = None, **kwargs) -> requests.Response:
        headers = kwargs.pop("headers", {})
        headers.setdefault("Authorization", f"Bearer {token or brand['token']}")
        return sandbox.http.request(method, sandbox.base_url + path, headers=headers, timeout=30, **kwargs)

    return call


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    override = os.environ.get("X_API_REFERENCE_DIR")
    path = Path(override) if override else REPO_ROOT.parent / "shared" / "x-api"
    if not path.exists():
        pytest.skip(f"X API reference material not found at {path}")
    return path
