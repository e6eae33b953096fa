"""The daily batch compliance job: X's way to tell us, in every intake mode, which of the
posts and accounts we hold were deleted, suspended or protected since we stored them.

`start_jobs` creates one job per type at X and uploads the ids we hold, read from the
database in chunks with a server-side cursor and spooled to a file by the adapter, so a
million ids never sit in memory. `check_jobs` (every few minutes) asks X about the jobs in
flight and, when one is complete, streams its result and applies each change: a deleted
post is redacted (`deletions.record_deletion`), a deleted or suspended account's profile is
redacted, a protected one is marked. Any failure is kept on the run (listed on the admin's
compliance page) and retried by the next check; intake never waits for any of this.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from tickets.models import Identity
from twitter_channel.compliance.models import ComplianceJobRun, XDeletion
from twitter_channel.intake.deletions import record_deletion
from twitter_channel.intake.redaction import POST_KINDS
from twitter_channel.models import IncomingItem
from twitter_channel.x.compliance_types import ComplianceChange
from twitter_channel.x.parsing import ParseError
from twitter_channel.x.types import XError

log = logging.getLogger(__name__)

Run = ComplianceJobRun
CHUNK = 5000
# X keeps a result a week; a run still failing after that starts over with a new job.
GIVE_UP_AFTER = timedelta(days=7)
ACCOUNT_GONE = {"delete", "deactivate", "suspend", "scrub_geo"}  # geo scrub: nothing we hold


def held_post_ids() -> Iterator[str]:
    """Every post id we hold and have not redacted, streamed from the database."""
    qs = (
        IncomingItem.objects.filter(kind__in=POST_KINDS, redacted_at__isnull=True)
        .exclude(x_id__startswith="malformed:")
        .order_by()
        .values_list("x_id", flat=True)
        .distinct()
    )
    yield from qs.iterator(chunk_size=CHUNK)


def held_user_ids() -> Iterator[str]:
    qs = Identity.objects.filter(kind=Identity.Kind.X).order_by().values_list("value", flat=True)
    yield from qs.iterator(chunk_size=CHUNK)


def start_jobs(client) -> list[Run]:
    """Create today's jobs at X and upload the ids (one run per type)."""
    runs = []
    for job_type, ids in ((Run.Type.TWEETS, held_post_ids()), (Run.Type.USERS, held_user_ids())):
        try:
            with transaction.atomic():
                run = Run.objects.create(type=job_type, attempts=1)
        except IntegrityError:
            continue  # today's job of this type was started already (by another beat)
        try:
            job = client.create_compliance_job(job_type, name=f"helpdesk-{job_type}-{timezone.now():%Y%m%d}")
            run.x_job_id, run.download_url = job.id, job.download_url
            run.ids_uploaded = client.upload_compliance_ids(job, ids)
        except XError as exc:
            _failed(run, f"Could not start the job: {exc.detail or exc}")
            continue
        run.save()
        runs.append(run)
    return runs


def check_jobs(client) -> int:
    """Apply the jobs X has finished; returns the changes applied."""
    applied = 0
    due = Run.objects.filter(status__in=(Run.Status.UPLOADED, Run.Status.FAILED), x_job_id__gt="",
                             created_at__gte=timezone.now() - GIVE_UP_AFTER)
    for pk in due.values_list("pk", flat=True):
        with transaction.atomic():
            # The row lock makes two checks running at once apply each result once.
            run = due.select_for_update(skip_locked=True).filter(pk=pk).first()
            if run is not None:
                applied += _check(client, run)
    return applied


def _check(client, run: Run) -> int:
    try:
        job = client.get_compliance_job(run.x_job_id)
        if job.status == "failed":
            _failed(run, "X says the job failed")
            return 0
        if job.status != "complete":
            return 0
        return apply_result(run, client.compliance_results(job))
    except (XError, ParseError) as exc:
        _failed(run, f"{type(exc).__name__}: {getattr(exc, 'detail', '') or exc}")
        return 0


def apply_result(run: Run, changes: Iterator[ComplianceChange]) -> int:
    """Apply each change of a result, each in a savepoint; a failure part-way is retried
    whole by the next check (applying a change twice changes nothing)."""
    run.attempts += 1
    total = done = 0
    for change in changes:
        total += 1
        with transaction.atomic():
            done += apply_change(run.type, change)
    run.changes, run.applied = total, done
    run.status, run.error, run.finished_at = Run.Status.APPLIED, "", timezone.now()
    run.save()
    return done


def apply_change(job_type: str, change: ComplianceChange) -> bool:
    if job_type == Run.Type.TWEETS:
        if change.action in ("delete", "takedown", "withheld", "drop"):
            record_deletion(change.id, source=XDeletion.Source.BATCH)
            return True
        return False
    if change.action in ACCOUNT_GONE - {"scrub_geo"}:
        return redact_account(change.id) > 0
    if change.action == "protect":
        # A protected account's posts are for its followers only: what we hold stays on its
        # tickets (the brand was addressed), the public profile details go.
        return redact_account(change.id, keep_handle=True) > 0
    return False


def redact_account(x_user_id: str, *, keep_handle: bool = False) -> int:
    """An account deleted or suspended on X: its profile data goes from identities and items;
    its tickets stay."""
    profile = {"display_name": "", "avatar_url": "", "followers": None, **({} if keep_handle else {"handle": ""})}
    changed = Identity.objects.filter(kind=Identity.Kind.X, value=x_user_id).update(**profile)
    item_profile = {"author_name": "", "author_avatar_url": "", "author_followers": None,
                    **({} if keep_handle else {"author_handle": ""})}
    changed += IncomingItem.objects.filter(author_x_id=x_user_id).update(**item_profile)
    return changed


def _failed(run: Run, error: str) -> None:
    log.warning("Compliance job %s: %s", run.x_job_id or run.pk, error)
    run.status, run.error = Run.Status.FAILED, error[:2000]
    run.save()


