"""Listening to ticket events: placeholder until the trigger engine lands."""

from __future__ import annotations


def connect() -> None:
    pass
