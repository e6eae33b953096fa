"""X's error bodies, byte-for-byte in the shapes X sends (see shared/x-api/examples).

Two families: RFC 7807 'about:blank' problems for auth/limits (401, 403, 429, 5xx)
and typed problems ('invalid-request' with an ``errors`` list, 'resource-not-found',
'unsupported-authentication', 'streaming-connection'). A typed problem's `type` URI depends
on the sandbox's mode (`Sandbox.problem_type`): callers pass it in as ``types``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from starlette.responses import Response

ProblemTypes = Callable[[str], str]  # "resource-not-found" -> its type URI
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


def invalid_request(types: ProblemTypes, errors: list[dict]) -> dict:
    return {
        "errors": errors,
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": types("invalid-request"),
    }


def unsupported_authentication(types: ProblemTypes, used: str, supported: str) -> dict:
    """X's 403 for a token of the wrong kind, worded as X words it (two spaces included)."""
    return {
        "title": "Unsupported Authentication",
        "detail": f"Authenticating with {used} is forbidden for this endpoint.  "
                  f"Supported authentication types are [{supported}].",
        "type": types("unsupported-authentication"),
        "status": 403,
    }


def too_many_connections(types: ProblemTypes) -> dict:
    """X's answer to a stream connection over the app's limit (spec 2.159
    ConnectionExceptionProblem, body as X sends it)."""
    return {
        "title": "ConnectionException",
        "detail": "This stream is currently at the maximum allowed connection limit.",
        "connection_issue": "TooManyConnections",
        "type": types("streaming-connection"),
    }


def param_error(name: str, values: list[str], message: str) -> dict:
    return {"parameters": {name: values}, "message": message}


def unknown_param(name: str, value: str, allowed: list[str]) -> dict:
    return param_error(name, [value], f"The query parameter [{name}] is not one of [{','.join(allowed)}]")


def bad_value(name: str, value: str, allowed: list[str] | None = None, message: str | None = None) -> dict:
    if message is None:
        message = f"The `{name}` query parameter value [{value}] is not one of [{','.join(allowed or [])}]"
    return param_error(name, [value], message)


def not_found(types: ProblemTypes, resource_type: str, parameter: str, value: str, what: str | None = None) -> dict:
    """Partial error for a missing item, e.g. a deleted tweet in a lookup (HTTP 200).

    `resource_id` is required by spec 2.159's ResourceNotFoundProblem and named by 2.167's
    (X's 2020 Postman examples predate it)."""
    return {
        "value": value,
        "detail": f"Could not find {resource_type} with {what or parameter}: [{value}].",
        "title": "Not Found Error",
        "resource_type": resource_type,
        "parameter": parameter,
        "resource_id": value,
        "type": types("resource-not-found"),
    }
