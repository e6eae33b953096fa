"""The incoming stream: everything fetched from X, filtered the way an admin looks for it."""

from __future__ import annotations

from django import forms
from django.db.models import Q, QuerySet

from twitter_channel.models import IncomingItem, XAccount

Kind = IncomingItem.Kind
State = IncomingItem.State

# States an admin may turn into a ticket by hand: everything the intake left aside.
CONVERTIBLE_STATES = (State.NEW, State.IGNORED, State.NOT_CAPTURED, State.RETWEET, State.QUARANTINED)
# The brand's own posts and DMs are echoes of what the helpdesk (or a person on X) sent;
# they never become tickets of their own.
CONVERTIBLE_KINDS = (Kind.MENTION, Kind.DM, Kind.LIKE)


class StreamFilterForm(forms.Form):
    kind = forms.ChoiceField(required=False, choices=[("", "All kinds"), *Kind.choices])
    state = forms.ChoiceField(required=False, choices=[("", "All states"), *State.choices])
    account = forms.ModelChoiceField(required=False, queryset=XAccount.objects.all(), empty_label="All accounts")
    q = forms.CharField(required=False, max_length=200, label="Search",
                        widget=forms.TextInput(attrs={"placeholder": "Text or @handle", "type": "search"}))

    def cleaned(self) -> dict:
        """The valid filters; an invalid one (a stale link) is dropped, not an error page."""
        self.is_valid()
        return {k: v for k, v in getattr(self, "cleaned_data", {}).items() if v not in ("", None)}


def incoming_items(filters: dict, *, account: XAccount | None = None) -> QuerySet[IncomingItem]:
    """Items newest first, with what the list shows joined in one query (no N+1)."""
    items = IncomingItem.objects.select_related("account", "ticket").defer("raw")
    account = account or filters.get("account")
    if account is not None:
        items = items.filter(account=account)
    if filters.get("kind"):
        items = items.filter(kind=filters["kind"])
    if filters.get("state"):
        items = items.filter(state=filters["state"])
    query = (filters.get("q") or "").strip()
    if query:
        handle = query.removeprefix("@")
        items = items.filter(Q(text__icontains=query) | Q(author_handle__iexact=handle)
                             | Q(author_handle__istartswith=handle) | Q(author_name__icontains=query))
    return items.order_by("-fetched_at", "-id")


def is_convertible(item: IncomingItem) -> bool:
    return item.kind in CONVERTIBLE_KINDS and item.state in CONVERTIBLE_STATES
