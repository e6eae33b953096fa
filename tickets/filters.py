"""Filtering and sorting the queue, from the query string. Searching is `tickets.search`."""

from __future__ import annotations

from django import forms
from django.db.models import Case, F, IntegerField, QuerySet, Value, When

from .models import Channel, Group, Ticket, User

NO_ASSIGNEE = "none"

SORTS = {
    # A search's default: the queue's recent-first order, then ranked (tickets.search).
    "relevance": ("-updated_at", "-id"),
    "-updated": ("-updated_at", "-id"),
    "updated": ("updated_at", "id"),
    "-created": ("-created_at", "-id"),
    "created": ("created_at", "id"),
    "-priority": ("-priority", "-updated_at", "-id"),
    "priority": ("priority", "-updated_at", "-id"),
    "status": ("status_rank", "-updated_at", "-id"),
    "-status": ("-status_rank", "-updated_at", "-id"),
    # Tickets without a running clock last; read off the (next_breach_at, id) index,
    # whose default order already puts NULLs last.
    "breach": (F("next_breach_at").asc(nulls_last=True), "id"),
}
SORT_LABELS = [
    ("-updated", "Recently updated"),
    ("updated", "Least recently updated"),
    ("-created", "Newest"),
    ("created", "Oldest"),
    ("-priority", "Priority, highest first"),
    ("priority", "Priority, lowest first"),
    ("status", "Status, new first"),
    ("-status", "Status, closed first"),
    ("breach", "Next SLA breach first"),
    ("relevance", "Best match (searches)"),
]
# Status in workflow order; sorting on the stored code would put "closed" before "new".
STATUS_RANK = Case(
    *(When(status=value, then=Value(rank)) for rank, value in enumerate(Ticket.Status.values)),
    output_field=IntegerField(),
)


class QueueFilterForm(forms.Form):
    """Reads the queue's query string. Invalid values are dropped, never a 400: the query
    string is often hand-edited or bookmarked from an older version."""

    q = forms.CharField(
        required=False,
        max_length=200,
        label="Search",
        widget=forms.TextInput(attrs={"placeholder": "Search subject, messages, requester, @handle", "type": "search"}),
    )
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *Ticket.Status.choices])
    priority = forms.TypedChoiceField(
        required=False, coerce=int, empty_value=None, choices=[("", "Any priority"), *Ticket.Priority.choices]
    )
    channel = forms.ChoiceField(required=False, choices=[("", "Any channel"), *Channel.choices])
    group = forms.ModelChoiceField(required=False, queryset=Group.objects.all(), empty_label="Any group")
    assignee = forms.ChoiceField(required=False)
    tag = forms.CharField(required=False, max_length=80, widget=forms.TextInput(attrs={"placeholder": "tag", "size": 10}))
    sort = forms.ChoiceField(required=False, choices=SORT_LABELS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Read once and kept: the queue's bulk "Assign to" list shows the same people, and
        # letting it query and iterate them again cost two queries and a few ms per page.
        self.agents = list(User.objects.filter(is_active=True).order_by("first_name", "username"))
        self.fields["assignee"].choices = [
            ("", "Anyone"),
            (NO_ASSIGNEE, "Unassigned"),
            *((str(u.pk), str(u)) for u in self.agents),
        ]

    def cleaned(self) -> dict:
        """The valid values only; a field that fails validation counts as not given."""
        self.is_valid()
        return {name: value for name, value in getattr(self, "cleaned_data", {}).items() if value not in ("", None)}


def apply_filters(qs: QuerySet[Ticket], params: dict) -> QuerySet[Ticket]:
    if "status" in params:
        qs = qs.filter(status=params["status"])
    if "priority" in params:
        qs = qs.filter(priority=params["priority"])
    if "channel" in params:
        qs = qs.filter(channel=params["channel"])
    if "group" in params:
        qs = qs.filter(group=params["group"])
    if "assignee" in params:
        assignee = params["assignee"]
        qs = qs.filter(assignee__isnull=True) if assignee == NO_ASSIGNEE else qs.filter(assignee_id=assignee)
    if "tag" in params:
        # A subquery, like search: filtering through the M2M join could repeat a ticket.
        qs = qs.filter(pk__in=Ticket.tags.through.objects.filter(tag__name=params["tag"].strip().lower()).values(
            "ticket_id"
        ))
    # "q" is not a filter here: a search finds ids in its own way (tickets.search), called
    # by the queue page with this queryset.
    return qs


def apply_sort(qs: QuerySet[Ticket], sort: str | None) -> QuerySet[Ticket]:
    order = SORTS.get(sort or "-updated", SORTS["-updated"])
    if "status_rank" in order or "-status_rank" in order:
        qs = qs.annotate(status_rank=STATUS_RANK)
    return qs.order_by(*order)
