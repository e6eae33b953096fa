"""Fixtures shared by the X channel's tests. A test module's own fixture of the same name
takes precedence over these."""

import pytest

# A real X sandbox over HTTP with a connected brand account (the answering tests).
from .answering_sandbox import alice, brand, sandbox_server, sb  # noqa: F401


@pytest.fixture
def noise_rules_version_read_once(monkeypatch):
    """Noise rules re-read their version every `CHECK_INTERVAL` seconds of wall time, so a
    query count over a slow run (a loaded machine) would grow with the clock: pin it."""
    from business_rules import noise

    monkeypatch.setattr(noise.compiled_rules, "max_age", float("inf"))
