"""Opaque pagination tokens and newest-first paging over id-sorted lists.

A token is a cursor on an id (or like sequence), never an offset, so a client walking
``next_token`` sees no gaps or repeats even while new items arrive on top.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass

_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
_SALT = 0x5A17_C0DE_1234_9876  # only makes tokens look opaque, like X's


def _b36(n: int) -> str:
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = _ALPHABET[r] + out
        if n == 0:
            return out


def encode(direction: str, cursor: int) -> str:
    """direction 'n' = items older than cursor (next page), 'p' = newer (previous page)."""
    body = _b36(cursor ^ _SALT)
    return f"{direction}{len(body):02d}{body}{_b36(cursor % 97).rjust(2, '0')}"


def decode(token: str) -> tuple[str, int] | None:
    try:
        direction, size = token[0], int(token[1:3])
        body, check = token[3 : 3 + size], token[3 + size :]
        cursor = int(body, 36) ^ _SALT
    except (ValueError, IndexError):
        return None
    if direction not in "np" or check != _b36(cursor % 97).rjust(2, "0"):
        return None
    return direction, cursor


@dataclass
class Page:
    keys: list[int]  # newest first
    next_token: str | None
    previous_token: str | None


def page_newest_first(keys: list[int], limit: int, token: tuple[str, int] | None,
                      lower: int | None = None, upper: int | None = None,
                      accept: Callable[[int], bool] | None = None,
                      always_previous: bool = False) -> Page:
    """Page over ascending ``keys`` from newest to oldest.

    ``lower``/``upper`` are exclusive bounds (since_id / until_id); ``accept`` filters
    the rest (times, event types).
    """
    lo = 0 if lower is None else bisect.bisect_right(keys, lower)
    hi = len(keys) if upper is None else bisect.bisect_left(keys, upper)
    picked: list[int] = []
    more = False
    if token is not None and token[0] == "p":
        # Previous page: the `limit` items just newer than the cursor, still sent newest first.
        i = max(lo, bisect.bisect_right(keys, token[1]))
        while i < hi:
            if accept is None or accept(keys[i]):
                if len(picked) == limit:
                    break
                picked.append(keys[i])
            i += 1
        picked.reverse()
        more = True  # the cursor item itself lies below
    else:
        if token is not None:
            hi = min(hi, bisect.bisect_left(keys, token[1]))
        i = hi - 1
        while i >= lo:
            if accept is None or accept(keys[i]):
                if len(picked) == limit:
                    more = True
                    break
                picked.append(keys[i])
            i -= 1
    next_token = encode("n", picked[-1]) if picked and more else None
    previous_token = encode("p", picked[0]) if picked and (token is not None or always_previous) else None
    return Page(picked, next_token, previous_token)
