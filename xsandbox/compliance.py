"""X's batch compliance jobs in the sandbox: `POST /2/compliance/jobs`, `GET
/2/compliance/jobs[/{id}]` (app bearer token), and the job's upload and download URLs.

Shapes from X's spec 2.167 (`CreateComplianceJobsRequest`: `type` tweets|users, `name`,
`resumable`; `ComplianceJob`: `id`, `type`, `name`, `resumable`, `status`
created|in_progress|complete|failed, `upload_url`, `upload_expires_at`, `download_url`,
`download_expires_at`, `created_at`). The spec leaves the files to X's docs, which the sandbox
follows: the upload is a PUT of ids, one per line (`text/plain`), to a pre-signed URL (no
bearer token: on X it is a cloud-storage URL); the result, downloaded from the other URL, is
one JSON object per line for each id that changed: for tweets `{"id", "action": "delete",
"created_at", "redacted_at", "reason": "deleted"}`, for users `{"id", "action", "created_at",
"reason"}` with action protect (a protected account) or delete (an unknown one).

The upload is read as a stream, line by line, and only the changes are kept: a job over
millions of ids needs no more memory than its result. A job is `in_progress` after the
upload and done by the next status read, which answers `complete` (X takes minutes; tests
need no wait).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from . import problems
from .activity_routes import Auth, _body, _invalid, _ok, endpoint_key, x_activity_route
from .clock import SnowflakeIds, format_time

JOB_TYPES = ("tweets", "users")
URL_TTL_SECONDS = 15 * 60
MAX_OPEN_JOBS_PER_TYPE = 5  # X: at most five concurrent jobs of each type


@dataclass
class Job:
    id: str
    type: str
    name: str
    resumable: bool
    created_at: float
    secret: str
    status: str = "created"
    uploaded_ids: int = 0
    results: list[str] = field(default_factory=list, repr=False)

    def view(self, base: str) -> dict:
        out = {"id": self.id, "type": self.type, "resumable": self.resumable, "status": self.status,
               "created_at": format_time(self.created_at),
               "upload_url": f"{base}/sandbox/compliance/upload/{self.id}?signature={self.secret}",
               "upload_expires_at": format_time(self.created_at + URL_TTL_SECONDS),
               "download_url": f"{base}/sandbox/compliance/download/{self.id}?signature={self.secret}",
               "download_expires_at": format_time(self.created_at + 7 * 24 * 3600)}
        if self.name:
            out["name"] = self.name
        return out


def install(sandbox) -> Compliance:
    compliance = Compliance(sandbox)
    sandbox.compliance = compliance
    reset = sandbox.reset

    def reset_with_compliance() -> None:
        reset()
        compliance.jobs.clear()

    sandbox.reset = reset_with_compliance
    return compliance


class Compliance:
    def __init__(self, sandbox) -> None:
        self.sb = sandbox
        self.ids = SnowflakeIds()
        self.jobs: dict[str, Job] = {}

    def create(self, job_type: str, name: str, resumable: bool) -> Job:
        job = Job(self.ids.make(self.sb.clock.now()), job_type, name, resumable, self.sb.clock.now(),
                  secrets.token_urlsafe(16))
        self.jobs[job.id] = job
        return job

    def result_for(self, job: Job, x_id: str) -> str | None:
        now = format_time(self.sb.clock.now())
        store = self.sb.store
        if job.type == "tweets":
            tweet = store.tweets.get(x_id)
            if tweet is not None and tweet.deleted:
                return json.dumps({"id": x_id, "action": "delete", "created_at": format_time(tweet.created_at),
                                   "redacted_at": now, "reason": "deleted"})
            return None
        user = store.users.get(x_id)
        if user is None:
            return json.dumps({"id": x_id, "action": "delete", "created_at": now, "reason": "deleted"})
        if user.protected:
            return json.dumps({"id": x_id, "action": "protect", "created_at": now, "reason": "protected"})
        return None


def _compliance(request: Request) -> Compliance:
    return request.app.state.sandbox.compliance


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


async def create_job(request: Request, auth: Auth) -> Response:
    body = await _body(request)
    if isinstance(body, Response):
        return body
    if body.get("type") not in JOB_TYPES:
        return _invalid(request, f"type must be one of {list(JOB_TYPES)}")
    unknown = set(body) - {"type", "name", "resumable"}
    if unknown:
        return _invalid(request, f"unknown fields: {sorted(unknown)}")
    name = body.get("name") or ""
    if not isinstance(name, str) or len(name) > 64:
        return _invalid(request, "name must be a string of at most 64 characters")
    comp = _compliance(request)
    open_jobs = [j for j in comp.jobs.values() if j.type == body["type"] and j.status in ("created", "in_progress")]
    if len(open_jobs) >= MAX_OPEN_JOBS_PER_TYPE:
        return problems.json_response(problems.blank_problem(
            429, "Too Many Requests", f"at most {MAX_OPEN_JOBS_PER_TYPE} {body['type']} jobs may run at once"), 429)
    job = comp.create(body["type"], name, body.get("resumable") is True)
    return _ok({"data": job.view(_base(request))})


async def get_job(request: Request, auth: Auth) -> Response:
    comp = _compliance(request)
    job = comp.jobs.get(request.path_params["id"])
    if job is None:
        return problems.problem_response(problems.blank_problem(404, "Not Found Error", "Could not find compliance job"))
    if job.status == "in_progress":
        job.status = "complete"
    return _ok({"data": job.view(_base(request))})


async def list_jobs(request: Request, auth: Auth) -> Response:
    job_type = request.query_params.get("type")
    if job_type not in JOB_TYPES:
        return _invalid(request, "type is required: tweets or users")
    status = request.query_params.get("status")
    jobs = [j.view(_base(request)) for j in _compliance(request).jobs.values()
            if j.type == job_type and (not status or j.status == status)]
    return _ok({"data": jobs, "meta": {"result_count": len(jobs)}} if jobs else {"meta": {"result_count": 0}})


def _signed_job(request: Request) -> Job | None:
    job = _compliance(request).jobs.get(request.path_params["id"])
    if job is None or not secrets.compare_digest(request.query_params.get("signature", ""), job.secret):
        return None
    return job


async def upload(request: Request) -> Response:
    job = _signed_job(request)
    if job is None:
        return Response("SignatureDoesNotMatch", 403)
    if job.status != "created":
        return Response("the upload URL was used already", 400)
    if request.app.state.sandbox.clock.now() > job.created_at + URL_TTL_SECONDS:
        return Response("the upload URL expired", 400)
    comp = _compliance(request)
    rest = b""
    async for chunk in request.stream():
        lines = (rest + chunk).split(b"\n")
        rest = lines.pop()
        for line in lines:
            _take(comp, job, line)
    _take(comp, job, rest)
    job.status = "in_progress"
    return Response(status_code=200)


def _take(comp: Compliance, job: Job, line: bytes) -> None:
    x_id = line.strip().decode("ascii", "replace")
    if not x_id:
        return
    job.uploaded_ids += 1
    result = comp.result_for(job, x_id)
    if result is not None:
        job.results.append(result)


async def download(request: Request) -> Response:
    job = _signed_job(request)
    if job is None:
        return Response("SignatureDoesNotMatch", 403)
    if job.status != "complete":
        return Response("NoSuchKey", 404)

    def lines():
        for result in job.results:
            yield result + "\n"

    return StreamingResponse(lines(), media_type="application/json")


X_ROUTES = [
    ("POST", "/2/compliance/jobs", create_job),
    ("GET", "/2/compliance/jobs", list_jobs),
    ("GET", "/2/compliance/jobs/{id}", get_job),
]


def routes() -> list[Route]:
    return [
        *(Route(path, x_activity_route(endpoint_key(method, path), handler), methods=[method])
          for method, path, handler in X_ROUTES),
        Route("/sandbox/compliance/upload/{id}", upload, methods=["PUT"]),
        Route("/sandbox/compliance/download/{id}", download, methods=["GET"]),
    ]
