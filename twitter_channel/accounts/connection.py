"""An account's connection to X: the clients that speak for it, its tokens, and the moment
it needs a person to connect it again.

Every X client is built here: polling, sending, real-time lookups and subscriptions, and the
connect page ask this module rather than building one themselves, so each account's calls
are metered (`costs.meter`) and sent to `X_API_BASE_URL` alike. The app's own client (bearer
token, for the Activity API and compliance jobs) and its webhook URL are here too.

Connecting an account (again) gives it its polling cursors and makes every stream due now
(`resume_polling`), whoever connected it: the connect page or `manage.py x_account`.

Tokens: X's OAuth 2.0 access tokens last two hours. `refresh_token_if_expiring` swaps the
refresh token for new ones a little before that (X_TOKEN_REFRESH_MARGIN_SECONDS), and
`refresh_account_token` does it at once (after a 401). When X refuses the account's
authorization for good, `mark_needs_reconnect` stops that account (only that one) until an
admin connects it again.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from twitter_channel.costs.meter import CostMeter
from twitter_channel.models import Stream, StreamCursor, XAccount
from twitter_channel.x import oauth as x_oauth
from twitter_channel.x.api import XClient

log = logging.getLogger(__name__)


class RealtimeUnavailable(Exception):
    """Real time cannot be switched on here (no app bearer token configured)."""


def client_for(account: XAccount, *, timeout: float | None = None) -> XClient:
    """A client speaking as the account, its calls billed to it. `timeout` (seconds) for
    callers that must not wait X's default (sending)."""
    options = {"timeout": timeout} if timeout is not None else {}
    return XClient(account.access_token, base_url=settings.X_API_BASE_URL, meter=CostMeter(account), **options)


def client_for_token(access_token: str, *, meter) -> XClient:
    """A client for tokens not stored on an account yet (the connect page reading who
    authorized it); `meter` holds the charges until the account exists."""
    return XClient(access_token, base_url=settings.X_API_BASE_URL, meter=meter)


def fresh_client_for(account: XAccount) -> XClient:
    """A client for the account, with its token refreshed first when it is about to expire."""
    return client_for(refresh_token_if_expiring(account))


def app_client() -> XClient:
    """The app's own client (its bearer token): the Activity API's webhooks and subscriptions,
    and the batch compliance jobs."""
    if not settings.X_APP_BEARER_TOKEN:
        raise RealtimeUnavailable("Real time needs the X app's bearer token (X_APP_BEARER_TOKEN).")
    return XClient(settings.X_APP_BEARER_TOKEN, base_url=settings.X_API_BASE_URL)


def webhook_url() -> str:
    """Where X delivers the app's webhook events (real time in webhook mode)."""
    return settings.X_WEBHOOK_URL or settings.SITE_URL + reverse("twitter_channel:x_webhook")


# --- connecting (again) -------------------------------------------------------------------------------


def ensure_cursors(account: XAccount) -> None:
    """Every account has one polling cursor per stream, made when it is first needed."""
    StreamCursor.objects.bulk_create(
        [StreamCursor(account=account, stream=s) for s in Stream.values], ignore_conflicts=True
    )


def resume_polling(account: XAccount) -> None:
    """After a reconnect: poll every stream now, not when the paused schedule said."""
    ensure_cursors(account)
    StreamCursor.objects.filter(account=account).update(
        next_poll_at=timezone.now(), claimed_at=None, consecutive_failures=0, last_error=""
    )


# --- tokens --------------------------------------------------------------------------------------------


def refresh_token_if_expiring(account: XAccount) -> XAccount:
    margin = timedelta(seconds=settings.X_TOKEN_REFRESH_MARGIN_SECONDS)
    if account.refresh_token and account.token_expires_at and account.token_expires_at - timezone.now() < margin:
        return refresh_account_token(account)
    return account


def refresh_account_token(account: XAccount) -> XAccount:
    """Swap the refresh token for new tokens and keep the newest refresh token X returns.

    The account row is locked: X invalidates a refresh token once used, so two workers
    refreshing at once would leave one holding a dead token. Committed on its own, never
    inside a poll's transaction, so a failing poll cannot roll the new tokens back."""
    with transaction.atomic():
        locked = XAccount.objects.select_for_update().get(pk=account.pk)
        if locked.refresh_token != account.refresh_token:
            return locked  # another worker refreshed while we waited for the lock
        tokens = x_oauth.refresh(locked.refresh_token)
        locked.access_token = tokens.access_token
        if tokens.refresh_token:
            locked.refresh_token = tokens.refresh_token
        locked.token_expires_at = tokens.expires_at
        if tokens.scope:
            locked.scopes = " ".join(tokens.scope)
        locked.save(update_fields=["access_token", "refresh_token", "token_expires_at", "scopes"])
    log.info("Refreshed the X token of %s", locked)
    return locked


def mark_needs_reconnect(account: XAccount, message: str) -> None:
    """X no longer accepts the account's authorization: it stops (polling, sending) until an
    admin connects it again, and the accounts page says why."""
    log.warning("X account %s needs reconnecting: %s", account, message)
    XAccount.objects.filter(pk=account.pk).update(
        needs_reconnect=True, last_error=message[:2000], last_error_at=timezone.now()
    )
