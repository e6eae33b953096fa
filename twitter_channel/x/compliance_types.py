"""X's batch compliance jobs, parsed by the adapter (`x_api`).

`ComplianceJob` follows spec 2.167's schema of the same name. The result file is X's
documented shape (the spec does not define it): one JSON object per line, `id`, `action`
(`delete`, `protect`, `suspend`, `withheld`, ...), `created_at`, `redacted_at`, `reason`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from twitter_channel.x.parsing import ParseError


@dataclass(frozen=True)
class ComplianceJob:
    id: str
    type: str
    status: str
    upload_url: str
    download_url: str
    name: str = ""


@dataclass(frozen=True)
class ComplianceChange:
    id: str
    action: str
    reason: str = ""
    created_at: str = ""


def parse_compliance_job(raw: Any) -> ComplianceJob:
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
        raise ParseError("compliance job has no id")
    return ComplianceJob(
        id=raw["id"], type=str(raw.get("type") or ""), status=str(raw.get("status") or ""),
        upload_url=str(raw.get("upload_url") or ""), download_url=str(raw.get("download_url") or ""),
        name=str(raw.get("name") or ""),
    )


def parse_compliance_line(line: bytes | str) -> ComplianceChange | None:
    """One line of a result file; None for a blank line. Raises ParseError."""
    line = line.strip()
    if not line:
        return None
    try:
        raw = json.loads(line)
    except ValueError as e:
        raise ParseError(f"compliance result line is not JSON: {e}") from e
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str | int) or not isinstance(raw.get("action"), str):
        raise ParseError("compliance result line has no id or action")
    return ComplianceChange(id=str(raw["id"]), action=raw["action"], reason=str(raw.get("reason") or ""),
                            created_at=str(raw.get("created_at") or ""))
