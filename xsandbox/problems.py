"""X's error bodies, byte-for-byte in the shapes X sends (see shared/x-api/examples).

Two families: RFC 7807 'about:blank' problems for auth/limits (401, 403, 429, 5xx)
and 'invalid-request' / 'resource-not-found' problems with an ``errors`` list.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

PROBLEMS = "https://api.twitter.com/2/problems/"
JSON_TYPE = "application/json; charset=utf-8"
PROBLEM_TYPE = "application/problem+json"


def dumps(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None,
                  media_type: str = JSON_TYPE) -> Response:
    return Response(dumps(body), status_code=status, headers=headers, media_type=media_type)


def blank_problem(status: int, title: str, detail: str | None = None) -> dict:
    return {"title": title, "type": "about:blank", "status": status, "detail": detail or title}


UNAUTHORIZED = blank_problem(401, "Unauthorized")
TOO_MANY_REQUESTS = blank_problem(429, "Too Many Requests")
FORBIDDEN = blank_problem(403, "Forbidden")
DUPLICATE_CONTENT = blank_problem(403, "Forbidden", "You are not allowed to create a Tweet with duplicate content.")
REPLY_TO_DELETED = blank_problem(
    403, "Forbidden", "You attempted to reply to a Tweet that is deleted or not visible to you.")
INTERNAL_ERROR = blank_problem(500, "Internal Server Error")
SERVICE_UNAVAILABLE = blank_problem(503, "Service Unavailable")


def problem_response(problem: dict, headers: dict[str, str] | None = None) -> Response:
    return json_response(problem, problem["status"], headers, media_type=PROBLEM_TYPE)


def invalid_request(errors: list[dict]) -> dict:
    return {
        "errors": errors,
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": PROBLEMS + "invalid-request",
    }


def param_error(name: str, values: list[str], message: str) -> dict:
    return {"parameters": {name: values}, "message": message}


def unknown_param(name: str, value: str, allowed: list[str]) -> dict:
    return param_error(name, [value], f"The query parameter [{name}] is not one of [{','.join(allowed)}]")


def bad_value(name: str, value: str, allowed: list[str] | None = None, message: str | None = None) -> dict:
    if message is None:
        message = f"The `{name}` query parameter value [{value}] is not one of [{','.join(allowed or [])}]"
    return param_error(name, [value], message)


def not_found(resource_type: str, parameter: str, value: str, what: str | None = None) -> dict:
    """Partial error for a missing item, e.g. a deleted tweet in a lookup (HTTP 200)."""
    return {
        "value": value,
        "detail": f"Could not find {resource_type} with {what or parameter}: [{value}].",
        "title": "Not Found Error",
        "resource_type": resource_type,
        "parameter": parameter,
        "type": PROBLEMS + "resource-not-found",
    }
