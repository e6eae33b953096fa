"""The images behind the sandbox's media (photos, and the stills of videos and GIFs).

X serves media from its CDN (pbs.twimg.com); the sandbox serves its own at
`/sandbox/media/<media key>.png`, so a customer can attach a picture and the helpdesk's
thread shows it from the sandbox's origin, as it would from X's. Each key gets a picture of
its own (a colour and stripes drawn from the key), made here without any imaging library.
"""

from __future__ import annotations

import hashlib
import struct
import zlib

from starlette.requests import Request
from starlette.responses import Response

from .store import Media


def png(width: int, height: int, seed: str) -> bytes:
    """A `width` x `height` RGB PNG: a background colour and diagonal stripes from `seed`."""
    digest = hashlib.sha256(seed.encode()).digest()
    back, stripe = digest[0:3], bytes(255 - c // 2 for c in digest[3:6])
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter: none
        for x in range(width):
            rows += stripe if ((x + y) // 24) % 3 == 0 else back
    return b"".join([
        b"\x89PNG\r\n\x1a\n",
        _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)),
        _chunk(b"IDAT", zlib.compress(bytes(rows), 6)),
        _chunk(b"IEND", b""),
    ])


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def image_url(request: Request) -> str:
    """Where media created through `request` is served (`{key}`: the media key)."""
    return f"{str(request.base_url).rstrip('/')}/sandbox/media/{{key}}.png"


_cache: dict[str, bytes] = {}


async def serve(request: Request) -> Response:
    sb = request.app.state.sandbox
    key = request.path_params["name"].removesuffix(".png")
    media: Media | None = sb.store.media.get(key)
    if media is None:
        return Response("unknown media", status_code=404, media_type="text/plain")
    if key not in _cache:
        # Drawn at a tenth of the announced size (a thumbnail's worth): the pictures are
        # only placeholders, and drawing pixels in Python is slow.
        _cache[key] = png(max(media.width // 10, 8), max(media.height // 10, 8), key)
    return Response(_cache[key], media_type="image/png", headers={"Cache-Control": "public, max-age=86400"})
