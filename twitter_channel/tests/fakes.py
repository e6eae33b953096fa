"""A fake X for adapter tests: the `responses` library answers at the HTTP layer, so the
real tweepy client, the real transport adapter and the real error mapping all run.
X's reference material (recordings, examples) is read from the shared folder."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings

PROBLEMS = "https://api.twitter.com/2/problems/"


def shared_x_api() -> Path:
    # In CI the shared folder is a sibling of the repository clone; X_API_REFERENCE_DIR points
    # elsewhere (a worktree), as for the sandbox's tests.
    override = os.environ.get("X_API_REFERENCE_DIR")
    return Path(override) if override else Path(settings.BASE_DIR).parent / "shared" / "x-api"


def recorded(name: str) -> list[dict[str, Any]]:
    return json.loads((shared_x_api() / "recorded" / name).read_text("utf-8"))


def example(name: str) -> dict[str, Any]:
    return json.loads((shared_x_api() / "examples" / name).read_text("utf-8"))


def unique_base_url() -> str:
    """A base URL no other test uses: the adapter remembers a vocabulary per base URL."""
    return f"http://x-{uuid.uuid4().hex[:12]}.test"


def rate_headers(limit: int = 75, remaining: int = 74, reset: int = 1_700_000_000) -> dict[str, str]:
    return {"x-rate-limit-limit": str(limit), "x-rate-limit-remaining": str(remaining),
            "x-rate-limit-reset": str(reset)}


def blank_problem(status: int, title: str, detail: str | None = None) -> dict[str, Any]:
    return {"title": title, "type": "about:blank", "status": status, "detail": detail or title}


def invalid_request(parameter: str, value: str, message: str) -> dict[str, Any]:
    """X's 400 body: the refused parameter and values in errors[].parameters."""
    return {
        "errors": [{"parameters": {parameter: [value]}, "message": message}],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": PROBLEMS + "invalid-request",
    }


def tweet(id: str, text: str = "hello", author_id: str = "2244994945", **fields: Any) -> dict[str, Any]:
    return {"id": id, "text": text, "author_id": author_id, "created_at": "2024-05-01T12:00:00.000Z",
            "edit_history_tweet_ids": [id], **fields}


def dm_event(id: str, text: str = "hi", sender_id: str = "42", conversation_id: str = "42-99",
             event_type: str = "MessageCreate", **fields: Any) -> dict[str, Any]:
    return {"id": id, "event_type": event_type, "text": text, "sender_id": sender_id,
            "dm_conversation_id": conversation_id, "created_at": "2024-05-01T12:00:00.000Z", **fields}
