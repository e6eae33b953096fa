"""Caps applied to a raw message before Python's email package reads it.

The standard library's parser has no limits of its own, and hostile or broken mail finds its
costs: a 1.4 MB Subject takes 49 s to parse (the header parser is quadratic), 60,000
recipients 23 s, 20,000 parts several seconds and as many files, and multiparts nested 3,000
deep exhaust the recursion limit. One linear pass over the bytes, before parsing, keeps each
of these within bounds: header fields are cut, one field name repeated past reason is
dropped, and the message stops after a number of MIME parts (which also bounds the nesting).
What was cut is described in plain words; the raw message itself is always kept whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.conf import settings

# `boundary=` parameters anywhere in the message: the delimiters of every multipart, nested
# ones included. (RFC 2231's `boundary*=` form is not seen here; such a message is read
# without the parts cap, and if the parser fails on it the message is quarantined.)
BOUNDARY_PARAM = re.compile(rb'boundary\s*=\s*(?:"([^"\r\n]{1,200})"|([^\s;"]{1,200}))', re.IGNORECASE)
# Only Received legitimately repeats much (one per hop); no real message has 100 of a kind.
MAX_FIELDS_OF_ONE_NAME = 100


@dataclass
class Capped:
    raw: bytes  # what the parser reads
    changes: list[str] = field(default_factory=list)


def cap_message(raw: bytes) -> Capped:
    capped = Capped(raw)
    headers, separator, body = _split_header_section(raw)
    cut: dict[str, int] = {}
    headers = _cap_header_fields(headers, cut, capped.changes)
    # Boundaries are looked for in the capped header and the whole body (nested multiparts
    # declare theirs in their own part headers).
    boundaries = {b"--" + (m.group(1) or m.group(2)) for m in BOUNDARY_PARAM.finditer(headers + body)}
    if boundaries:
        body = _cap_parts(body, boundaries, cut, capped.changes)
    limit = settings.INBOUND_EMAIL_MAX_HEADER_BYTES
    for label, size in cut.items():
        capped.changes.append(f"The {label} header was {_size(size)}; only its first {_size(limit)} were read.")
    capped.raw = headers + separator + body
    return capped


def _split_header_section(raw: bytes) -> tuple[bytes, bytes, bytes]:
    """(header lines, the blank line, the rest). A message with no blank line is all header."""
    crlf, lf = raw.find(b"\r\n\r\n"), raw.find(b"\n\n")
    if crlf != -1 and (lf == -1 or crlf < lf):
        return raw[: crlf + 2], b"\r\n", raw[crlf + 4 :]
    if lf != -1:
        return raw[: lf + 1], b"\n", raw[lf + 2 :]
    return raw, b"", b""


def _cap_header_fields(headers: bytes, cut: dict[str, int], changes: list[str]) -> bytes:
    kept: list[bytes] = []
    seen: dict[bytes, int] = {}
    dropped: dict[str, int] = {}
    for field_bytes in _fields(headers.splitlines(keepends=True)):
        name = field_bytes.partition(b":")[0].strip().lower()
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > MAX_FIELDS_OF_ONE_NAME:
            label = _label(name)
            dropped[label] = dropped.get(label, 0) + 1
            continue
        kept.append(_cap_field(field_bytes, cut))
    for label, count in dropped.items():
        changes.append(f"{count} more {label} header(s) beyond {MAX_FIELDS_OF_ONE_NAME} were not read.")
    return b"".join(kept)


def _cap_field(field_bytes: bytes, cut: dict[str, int]) -> bytes:
    limit = settings.INBOUND_EMAIL_MAX_HEADER_BYTES
    if len(field_bytes) <= limit:
        return field_bytes
    label = _label(field_bytes.partition(b":")[0].strip().lower())
    cut[label] = max(cut.get(label, 0), len(field_bytes))
    # Cut at a space where there is one, so no address or encoded word is half kept.
    end = field_bytes.rfind(b" ", 0, limit)
    return field_bytes[: end if end > limit // 2 else limit].rstrip() + b"\r\n"


def _label(name: bytes) -> str:
    return name.decode("ascii", "replace").title()[:60]


def _fields(lines):
    """Header fields with their folded continuation lines, each ending in its line break."""
    current: list[bytes] = []
    for line in lines:
        if current and line[:1] not in (b" ", b"\t"):
            yield b"".join(current)
            current = []
        current.append(line)
    if current:
        yield b"".join(current)


def _cap_parts(body: bytes, boundaries: set[bytes], cut: dict[str, int], changes: list[str]) -> bytes:
    """The body with each part's header fields capped, cut just before the delimiter that
    opens one part more than the cap."""
    limit = settings.INBOUND_EMAIL_MAX_PARTS
    out: list[bytes] = []
    part_headers: list[bytes] | None = None  # lines of the part header being read
    parts = 0
    for line in body.splitlines(keepends=True):
        stripped = line.rstrip()
        is_delimiter = stripped in boundaries
        if part_headers is not None and (is_delimiter or not stripped):
            out.extend(_cap_field(field, cut) for field in _fields(part_headers))
            part_headers = None
        if part_headers is not None:
            part_headers.append(line)
            continue
        if is_delimiter:
            parts += 1
            if parts > limit:
                changes.append(f"The message has more than {limit} MIME parts; only the first {limit} were read.")
                break
            part_headers = []
        out.append(line)
    if part_headers is not None:
        out.extend(_cap_field(field, cut) for field in _fields(part_headers))
    return b"".join(out)


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KB" if n >= 1024 else f"{n} bytes"
