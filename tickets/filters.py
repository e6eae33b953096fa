"""Filtering, searching and sorting the queue, from the query string.

Search looks in the subject, the comments and the requester (name, email address, X handle).
Every place searched gives ticket ids, and the queue keeps the tickets whose id is in their
UNION: no JOIN from the queue to a million comments (which would repeat a ticket per matching
comment and need DISTINCT), and each place is read through its own index. See
`matching_ticket_ids` (measured on PostgreSQL, 100k tickets / 1M comments).
"""

from __future__ import annotations

from django import forms
from django.db.models import Case, F, IntegerField, QuerySet, Value, When

from .models import Channel, Comment, Group, Identity, Requester, Ticket, User

NO_ASSIGNEE = "none"

SORTS = {
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
    if "q" in params:
        qs = search(qs, params["q"])
    return qs


# Trigram indexes need three characters; a shorter text would read every comment (seconds at
# 1M comments) and match most of them anyway. Shorter searches look at subjects and people.
MIN_COMMENT_SEARCH = 3


def search(qs: QuerySet[Ticket], text: str) -> QuerySet[Ticket]:
    text = text.strip()
    if not text:
        return qs
    return qs.filter(pk__in=matching_ticket_ids(text))


def matching_ticket_ids(text: str) -> QuerySet:
    """The ids of every ticket the text finds, as one UNION of id subqueries, one per place
    searched. Each arm is a plain indexed lookup (trigram or primary key) that returns ids;
    the UNION removes duplicates, so a ticket with many matching comments is listed once.

    Why a UNION and not one WHERE with ORs: PostgreSQL cannot use an index for an OR that
    mixes columns and subqueries, so it walked all 100k tickets testing each one (and read
    every requester for the name), 150-400 ms per query at 100k tickets / 1M comments. As
    separate arms each uses its own index and the result is a handful of ids.
    """
    handle = text.removeprefix("@")
    requesters = _union(
        Requester.objects.filter(name__icontains=text).values("pk"),
        Identity.objects.filter(value__icontains=text).values("requester_id"),
        Identity.objects.filter(kind=Identity.Kind.X, handle__icontains=handle).values("requester_id"),
    )
    arms = [
        Ticket.objects.filter(subject__icontains=text).values("pk"),
        # The requesters first, then their tickets once: joining each of the three
        # requester lookups to the tickets separately read the tickets three times.
        Ticket.objects.filter(requester_id__in=requesters).values("pk"),
    ]
    if len(text) >= MIN_COMMENT_SEARCH:
        arms.append(Comment.objects.filter(body__icontains=text).values("ticket_id"))
    if text.isdigit() and len(text) < 18:  # a ticket number; longer would overflow bigint
        arms.append(Ticket.objects.filter(pk=int(text)).values("pk"))
    return _union(*arms)


def _union(*querysets: QuerySet) -> QuerySet:
    # No ORDER BY inside a compound query: the models' default orderings would be a syntax
    # error there on some databases, and order means nothing to IN.
    first, *rest = (qs.order_by() for qs in querysets)
    return first.union(*rest)


def apply_sort(qs: QuerySet[Ticket], sort: str | None) -> QuerySet[Ticket]:
    order = SORTS.get(sort or "-updated", SORTS["-updated"])
    if "status_rank" in order or "-status_rank" in order:
        qs = qs.annotate(status_rank=STATUS_RANK)
    return qs.order_by(*order)
