"""Admin pages of the X channel: connected accounts, their health, and quarantined items.

Admins only. Agents and restricted agents get a 404, as if the pages did not exist, so
nothing about the brand accounts leaks; anonymous visitors are sent to log in.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from tickets.access import admin_only
from twitter_channel.accounts import connection, health
from twitter_channel.accounts.forms import XAccountSettingsForm
from twitter_channel.accounts.health import intake_state
from twitter_channel.costs import meter as cost_meter
from twitter_channel.models import SCOPE_PURPOSES, IncomingItem, Stream, StreamCursor, XAccount
from twitter_channel.x import oauth as x_oauth
from twitter_channel.x.types import XError

log = logging.getLogger(__name__)

SCOPES = list(SCOPE_PURPOSES)
SESSION_KEY = "x_oauth"



def callback_url() -> str:
    return settings.SITE_URL + reverse("twitter_channel:oauth_callback")


@admin_only
def account_list(request: HttpRequest) -> HttpResponse:
    accounts = list(XAccount.objects.select_related("default_group").order_by("username"))
    cursors = {(c.account_id, c.stream): c for c in StreamCursor.objects.filter(account__in=accounts)}
    quarantined = dict(
        IncomingItem.objects.filter(state=IncomingItem.State.QUARANTINED)
        .values("account_id")
        .annotate(n=Count("pk"))
        .values_list("account_id", "n")
    )
    rows = []
    for a in accounts:
        streams = [(label, cursors.get((a.pk, value))) for value, label in Stream.choices]
        rows.append({
            "account": a,
            "streams": streams,
            "intake": intake_state(a, [cursor for _, cursor in streams]),
            "missing_scopes": a.missing_scopes(),
            "quarantined": quarantined.get(a.pk, 0),
        })
    response = render(request, "twitter_channel/accounts.html", {
        "rows": rows, "budget": cost_meter.app_budget_state(), "any_budget_notice": cost_meter.budget_notices()})
    # Connect and Reconnect post here and are redirected to X's consent page: the page's
    # Content-Security-Policy must let its forms lead there (browsers check form-action on
    # every redirect of a submission).
    response._csp_update = {"form-action": [x_oauth.authorize_origin()]}
    return response


@admin_only
@require_POST
def connect(request: HttpRequest) -> HttpResponse:
    url, state, verifier = x_oauth.authorization_url(redirect_uri=callback_url(), scopes=SCOPES)
    # The callback is another request: PKCE verifier and state wait in the session.
    request.session[SESSION_KEY] = {"state": state, "verifier": verifier}
    return redirect(url)


@admin_only
def oauth_callback(request: HttpRequest) -> HttpResponse:
    pending = request.session.pop(SESSION_KEY, None)
    if request.GET.get("error"):
        messages.error(request, f"X did not connect the account: {request.GET['error']}.")
        return redirect("twitter_channel:accounts")
    if not pending or request.GET.get("state") != pending["state"] or not request.GET.get("code"):
        # A callback we did not start (or started in another session): never trust it.
        messages.error(request, "That X authorization could not be verified. Please connect again.")
        return redirect("twitter_channel:accounts")
    try:
        tokens = x_oauth.exchange_code(
            code=request.GET["code"], code_verifier=pending["verifier"], redirect_uri=callback_url()
        )
        meter = cost_meter.PendingMeter()  # reading who connected is billed too, once the account exists
        me = connection.client_for_token(tokens.access_token, meter=meter).get_me()
    except XError as exc:
        log.warning("Connecting an X account failed: %s", exc.detail or type(exc).__name__)
        messages.error(request, f"X refused the connection: {exc.detail or 'unknown error'}")
        return redirect("twitter_channel:accounts")
    account = save_connected_account(me, tokens)
    meter.flush_to(account)
    messages.success(request, f"Connected {account}.")
    return redirect("twitter_channel:account_settings", pk=account.pk)


def save_connected_account(me, tokens) -> XAccount:
    """Create the account, or reconnect it (same X user id): fresh tokens, polling on."""
    with transaction.atomic():
        account = XAccount.objects.select_for_update().filter(user_id=me.id).first() or XAccount(user_id=me.id)
        account.username = me.username
        account.display_name = me.name
        account.avatar_url = me.profile_image_url
        account.access_token = tokens.access_token
        account.refresh_token = tokens.refresh_token or ""
        account.token_expires_at = tokens.expires_at
        account.scopes = " ".join(tokens.scope)
        account.needs_reconnect = False
        account.is_active = True
        account.last_error = ""
        account.save()
        connection.resume_polling(account)
    return account


@admin_only
def account_settings(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(XAccount, pk=pk)
    form = XAccountSettingsForm(request.POST or None, instance=account)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, f"Settings of {account} saved.")
        return redirect("twitter_channel:accounts")
    cursors = StreamCursor.objects.filter(account=account).order_by("stream")
    webhook = health.webhook_health() if account.intake_mode == XAccount.IntakeMode.WEBHOOK else None
    push_missed = health.missed_by_push(account) if account.intake_mode != XAccount.IntakeMode.POLLING else 0
    response = render(request, "twitter_channel/account_settings.html", {
        "account": account, "form": form, "cursors": cursors, "webhook": webhook, "push_missed": push_missed,
        "intake": intake_state(account, list(cursors)), "missing_scopes": account.missing_scopes(),
        "spend": cost_meter.spend_of(account), "budget": cost_meter.budget_state(account.pk)})
    response._csp_update = {"form-action": [x_oauth.authorize_origin()]}  # its Reconnect button, as on the list
    return response


@admin_only
@require_http_methods(["GET", "POST"])
def disconnect(request: HttpRequest, pk: int) -> HttpResponse:
    """Stop polling and forget the tokens; the account's tickets and items stay. A GET asks
    first (what stops, what stays); only the confirmation page's POST disconnects."""
    account = get_object_or_404(XAccount, pk=pk)
    if request.method == "GET":
        ticket_count = account.items.filter(ticket__isnull=False).values("ticket").distinct().count()
        return render(request, "twitter_channel/confirm_disconnect.html",
                      {"account": account, "ticket_count": ticket_count})
    for token in (account.refresh_token, account.access_token):
        if token:
            try:
                x_oauth.revoke(token)
            except XError as exc:
                # The tokens are dropped here whatever X says; a dead token cannot be revoked anyway.
                log.info("Revoking a token of %s failed: %s", account, exc.detail or type(exc).__name__)
    account.access_token = ""
    account.refresh_token = ""
    account.token_expires_at = None
    account.is_active = False
    account.save()
    messages.success(request, f"Disconnected {account}. Its tickets stay; connect it again to resume.")
    return redirect("twitter_channel:accounts")
