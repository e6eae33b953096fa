"""Fixtures shared by the X channel's tests. A test module's own fixture of the same name
takes precedence over these."""

# A real X sandbox over HTTP with a connected brand account (the answering tests).
from .answering_sandbox import alice, brand, sandbox_server, sb  # noqa: F401
