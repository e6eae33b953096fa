"""xsandbox — a local, shape-identical stand-in for the X (Twitter) API v2.

Run it with ``python -m xsandbox --port 8001``; drive it from tests with
:mod:`xsandbox.testing`. See ``xsandbox/README.md``.
"""

__all__ = ["__version__"]
__version__ = "0.1.0"
