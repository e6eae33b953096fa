"""Tickets, the people on both sides of them, and their comments.

`tickets` knows channels only as values: the X channel app links its own rows to tickets
and comments, never the other way round, with one exception: `Ticket.x_account` (see there).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

# The email channel's own records; imported here so they belong to this app and its migrations.
from .mail.models import (  # noqa: F401
    EmailAttachment,
    EmailConfirmation,
    EmailRequest,
    InboundEmail,
    OutgoingEmail,
    OutgoingNotification,
)


class Channel(models.TextChoices):
    WEB = "web", "Web"
    EMAIL = "email", "Email"
    X = "x", "X"
    X_DM = "x_dm", "X DM"
    X_LIKE = "x_like", "X Like"
    API = "api", "API"


X_CHANNELS = (Channel.X, Channel.X_DM, Channel.X_LIKE)


class Group(models.Model):
    name = models.CharField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A member of the support team. End users are `Requester`s, never `User`s."""

    class Role(models.TextChoices):
        ADMIN = "admin", "Admin"
        AGENT = "agent", "Agent"
        RESTRICTED = "restricted", "Restricted agent"

    role = models.CharField(max_length=20, choices=Role.choices, default=Role.AGENT)
    groups_member_of = models.ManyToManyField(Group, blank=True, related_name="members")
    # For restricted agents only: they see tickets in these groups and/or on these channels.
    allowed_groups = models.ManyToManyField(Group, blank=True, related_name="+")
    allowed_channels = models.JSONField(default=list, blank=True)

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN or self.is_superuser

    @property
    def is_restricted(self) -> bool:
        return self.role == self.Role.RESTRICTED and not self.is_superuser

    # The role is the one source of truth for the Django admin: only admins (and superusers)
    # are staff, whatever the is_staff box said, and an admin holds every permission there
    # without a permission list to maintain by hand.
    def save(self, *args, **kwargs):
        self.is_staff = self.is_admin
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"role", "is_superuser"} & set(update_fields):
            kwargs["update_fields"] = {*update_fields, "is_staff"}
        super().save(*args, **kwargs)

    def has_perm(self, perm, obj=None) -> bool:
        if self.is_active and self.is_admin:
            return True
        return super().has_perm(perm, obj)

    def has_module_perms(self, app_label) -> bool:
        if self.is_active and self.is_admin:
            return True
        return super().has_module_perms(app_label)

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class Requester(models.Model):
    """An end user: one person, who may write from several emails and X accounts."""

    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    # Set when the person's data was erased (tickets.privacy): their old tickets then take no
    # message from outside any more, whatever still names them (a reply+token address, the
    # public page's link); what the person sends later starts afresh.
    erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Identity(models.Model):
    class Kind(models.TextChoices):
        EMAIL = "email", "Email"
        X = "x", "X"

    requester = models.ForeignKey(Requester, on_delete=models.CASCADE, related_name="identities")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # Email address (lower-cased) or X user id (digits, kept as a string).
    value = models.CharField(max_length=254)
    handle = models.CharField(max_length=50, blank=True)
    display_name = models.CharField(max_length=200, blank=True)
    avatar_url = models.URLField(max_length=500, blank=True)
    followers = models.PositiveIntegerField(null=True, blank=True)
    verified = models.BooleanField(default=False)  # X's verified mark
    updated_at = models.DateTimeField(auto_now=True)
    # Email only. Nothing is sent to an address until it is confirmed: the requester wrote
    # from it, its owner clicked the link mailed to it, or an agent (added_by) vouched for it.
    confirmed_at = models.DateTimeField(null=True, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The agent who added this address by hand.",
    )
    # Replies by email go to the primary address (or, on a ticket, to the confirmed address
    # the requester last wrote from), never merely to the newest one.
    is_primary = models.BooleanField(default=False)

    class Meta:
        verbose_name_plural = "identities"
        constraints = [
            models.UniqueConstraint(fields=["kind", "value"], name="unique_identity"),
            models.UniqueConstraint(
                fields=["requester"], condition=Q(kind="email", is_primary=True), name="one_primary_email_per_requester"
            ),
        ]
        indexes = [models.Index(fields=["handle"])]

    def __str__(self) -> str:
        return f"@{self.handle}" if self.kind == self.Kind.X and self.handle else self.value

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None


class Tag(models.Model):
    name = models.SlugField(max_length=80, unique=True, allow_unicode=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Ticket(models.Model):
    class Status(models.TextChoices):
        NEW = "new", "New"
        OPEN = "open", "Open"
        PENDING = "pending", "Pending"
        ON_HOLD = "on_hold", "On-hold"
        SOLVED = "solved", "Solved"
        CLOSED = "closed", "Closed"

    class Priority(models.IntegerChoices):
        LOW = 1, "Low"
        NORMAL = 2, "Normal"
        HIGH = 3, "High"
        URGENT = 4, "Urgent"

    subject = models.CharField(max_length=255)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.NORMAL)
    # Indexed with the id by ticket_requester_id_idx below (search by a person's name).
    requester = models.ForeignKey(Requester, on_delete=models.PROTECT, related_name="tickets", db_index=False)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_tickets"
    )
    group = models.ForeignKey(Group, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets")
    tags = models.ManyToManyField(Tag, blank=True, related_name="tickets")
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.WEB)
    # The X account the ticket came through (its replies go out from it by default). It stays
    # a ticket field, though it points into the X channel's table, because the core's
    # field machinery treats it as one: triggers and automations have an "X account"
    # condition (business rules see ticket fields, never twitter_channel's rows), the event
    # log records its changes, the admin edits it through update_ticket, and follow-ups
    # inherit it. A link owned by twitter_channel would take all of that with it. The cost:
    # a reference by name (no import) that makes tickets' first migration depend on
    # twitter_channel's.
    x_account = models.ForeignKey(
        "twitter_channel.XAccount", null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    # A ticket that continues a closed (or full) one points back at it.
    follow_up_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="follow_ups"
    )
    # A ticket merged into another (`tickets.merging`) is closed and points at the one that
    # holds its messages now; whatever still arrives for it is passed on there.
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_tickets"
    )
    # Kept by add_comment() under a row lock; the comment cap is checked against it.
    comment_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # Indexed by ticket_updated_id_idx below: a lone updated_at index made the planner
    # prefer it and sort 1,000 joined rows per queue page (24 ms) instead of reading 50 (1 ms).
    updated_at = models.DateTimeField(auto_now=True)
    solved_at = models.DateTimeField(null=True, blank=True)
    # When the status last changed and when each side last wrote publicly, kept by
    # `apply_status` and `add_comment`: time-based rules ask "hours since…" of these
    # columns in SQL, and service-level clocks start and stop on them.
    status_changed_at = models.DateTimeField(null=True, blank=True)
    requester_replied_at = models.DateTimeField(null=True, blank=True)
    agent_replied_at = models.DateTimeField(null=True, blank=True)
    assignee_replied_at = models.DateTimeField(null=True, blank=True)
    # The earliest due time of the ticket's running service-level clocks (None: no clock
    # running). Computed by whichever app keeps the clocks (business_rules); stored here
    # because the queue sorts on it and shows it on every row.
    next_breach_at = models.DateTimeField(null=True, blank=True)
    # The subject's full-text search vector, kept by a PostgreSQL trigger (migration
    # 0017_search_vector, `tickets.search`); always NULL on SQLite, where search scans.
    search_vector = SearchVectorField(null=True, editable=False)

    class Meta:
        ordering = ["-updated_at"]
        indexes = [
            models.Index(fields=["status", "-updated_at"]),
            models.Index(fields=["assignee", "status"]),
            models.Index(fields=["group", "status"]),
            models.Index(fields=["channel", "status"]),
            # The queue's sorts, with id as the tie-breaker the views add: the page is then
            # read straight off the index and LIMIT stops after 50 rows (bench/pages.py).
            models.Index(fields=["updated_at", "id"], name="ticket_updated_id_idx"),
            models.Index(fields=["priority", "updated_at", "id"], name="ticket_priority_updated_idx"),
            # "Next breach first", "breaching within the hour" and automations' SLA hours.
            # Status rides along (PostgreSQL INCLUDE) so the view's count of unsolved tickets
            # due soon is an index-only scan: 44 -> 12 ms over 42,000 breaching tickets.
            models.Index(fields=["next_breach_at", "id"], include=["status"], name="ticket_next_breach_idx"),
            # Automations' "hours since…" conditions, always asked with a status.
            models.Index(fields=["status", "status_changed_at"], name="ticket_status_changed_idx"),
            models.Index(fields=["status", "requester_replied_at"], name="ticket_requester_replied_idx"),
            models.Index(fields=["status", "assignee_replied_at"], name="ticket_assignee_replied_idx"),
            # Search (`tickets.search`) collects the ids of the tickets a text finds, then keeps
            # the queue's among them in its order. A common surname's 650 requesters own 21,000
            # of 1,000,000 tickets: with the id beside the requester their ids come off this
            # index alone, and the queue's columns beside the id (INCLUDE) let the matches be
            # filtered and sorted without reading each ticket's row (226 -> 124 ms).
            models.Index(fields=["requester", "id"], name="ticket_requester_id_idx"),
            models.Index(
                fields=["id"], include=["updated_at", "status", "group", "channel", "assignee"],
                name="ticket_id_queue_cols_idx",
            ),
        ]
        # Search's trigram indexes (subject, comment body, requester name, identities) and
        # full-text GIN indexes are PostgreSQL-only and live in migrations 0003_queue_indexes
        # and 0017_search_vector, not here.

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"

    def get_absolute_url(self) -> str:
        return reverse("tickets:detail", args=[self.pk])

    @property
    def is_x(self) -> bool:
        return self.channel in X_CHANNELS


class Comment(models.Model):
    class Delivery(models.TextChoices):
        """What became of a comment sent to the requester, as its outbox row says (tickets/outbox.py).

        Words of their own: "pending" is a ticket status and would mislead here."""

        NONE = "", "Not sent anywhere"
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        # The last attempt may or may not have got through; the next one looks first.
        UNKNOWN = "unknown", "Outcome unknown"

    class Source(models.TextChoices):
        """Namespaces of external ids: a tweet id and a DM event id may collide."""

        TWEET = "tweet", "Tweet"
        DM = "dm", "Direct message"
        EMAIL = "email", "Email Message-ID"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="comments")
    author_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="comments"
    )
    author_requester = models.ForeignKey(
        Requester, null=True, blank=True, on_delete=models.SET_NULL, related_name="comments"
    )
    body = models.TextField()
    is_public = models.BooleanField(default=True)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.WEB)
    external_source = models.CharField(max_length=10, choices=Source.choices, blank=True)
    # NULL, not "", for comments from nowhere: the unique constraint ignores NULLs.
    external_id = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    delivery = models.CharField(max_length=10, choices=Delivery.choices, default=Delivery.NONE, blank=True)
    delivery_error = models.TextField(blank=True)
    external_url = models.URLField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Set when the message's author deleted it where it came from (a post or DM deleted on
    # X): the body is then a tombstone, the external id stays (`tickets.redaction`).
    redacted_at = models.DateTimeField(null=True, blank=True)
    # The body's full-text search vector, kept by a PostgreSQL trigger like the ticket's: a
    # redacted body's vector is rebuilt from the tombstone, so deleted words stop matching.
    search_vector = SearchVectorField(null=True, editable=False)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at", "id"])]
        constraints = [
            models.UniqueConstraint(
                fields=["external_source", "external_id"],
                condition=Q(external_id__isnull=False),
                name="unique_comment_external_id",
            ),
        ]

    def __str__(self) -> str:
        return f"Comment {self.pk} on #{self.ticket_id}"

    @property
    def author_name(self) -> str:
        if self.author_user_id:
            return str(self.author_user)
        if self.author_requester_id:
            return str(self.author_requester)
        return "System"

    @property
    def is_internal(self) -> bool:
        return not self.is_public


class CommentRevision(models.Model):
    """An earlier version of a comment whose author edited it where it came from (an edited
    post on X): the comment shows the latest text, these keep what it said before."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="revisions")
    body = models.TextField()
    # The id the earlier version had where it came from (X gives each edit a new post id).
    external_id = models.CharField(max_length=255, blank=True)
    replaced_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["replaced_at", "id"]

    def __str__(self) -> str:
        return f"Revision of comment {self.comment_id}"


class Erasure(models.Model):
    """The audit row of an erased requester: who erased whom (by id only: the person's data
    is gone) and when, with how many rows each part of the helpdesk changed."""

    requester_id = models.PositiveBigIntegerField()
    erased_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    erased_by_name = models.CharField(max_length=255)
    erased_at = models.DateTimeField(default=timezone.now)
    counts = models.JSONField(default=dict)

    class Meta:
        ordering = ["-erased_at"]

    def __str__(self) -> str:
        return f"Requester #{self.requester_id} erased by {self.erased_by_name}"



class TicketEvent(models.Model):
    """One property of a ticket changed: when, by whom (or what), from which value to which.

    Written in the transaction of the change itself, by the same services that announce it
    (`tickets.lifecycle.update_ticket`, `tickets.comments.add_comment`), whoever the actor:
    an agent, a trigger, the X intake, email, the system or an automation. Values are kept
    twice: as data (`old_value`/`new_value`: ids, choice values, tag lists), for the code that
    reasons about history (edit conflicts, service-level clocks, live updates), and as the
    label a person saw (`old_label`/`new_label`), which stays true after a rename or deletion.
    """

    class ActorKind(models.TextChoices):
        AGENT = "agent", "Agent"
        TRIGGER = "trigger", "Trigger"
        X_INTAKE = "x_intake", "X intake"
        EMAIL = "email", "Email"
        REQUESTER = "requester", "Requester"
        SYSTEM = "system", "System"
        AUTOMATION = "automation", "Automation"

    class Field(models.TextChoices):
        STATUS = "status", "Status"
        PRIORITY = "priority", "Priority"
        ASSIGNEE = "assignee", "Assignee"
        GROUP = "group", "Group"
        TAGS = "tags", "Tags"
        SUBJECT = "subject", "Subject"
        CHANNEL = "channel", "Channel"
        X_ACCOUNT = "x_account", "X account"
        # Merges (`tickets.merging`): the value is the other ticket's id.
        MERGED_INTO = "merged_into", "Merged into"
        MERGED_FROM = "merged_from", "Merged in"

    # No index of its own: the (ticket, created_at, id) index below serves lookups by ticket.
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events", db_index=False)
    created_at = models.DateTimeField(default=timezone.now)
    actor_kind = models.CharField(max_length=12, choices=ActorKind.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The requester whose message made the change (X intake, email): erasing a person must
    # find the rows that carry their name.
    actor_requester = models.ForeignKey(
        Requester, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Who it was when it happened: an agent's name, a trigger's title, a requester's name.
    actor_name = models.CharField(max_length=255, blank=True)
    field = models.CharField(max_length=12, choices=Field.choices)
    old_value = models.JSONField(null=True, blank=True)
    new_value = models.JSONField(null=True, blank=True)
    old_label = models.TextField(blank=True)
    new_label = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at", "id"], name="ticketevent_ticket_time_idx")]

    def __str__(self) -> str:
        return f"#{self.ticket_id} {self.field}: {self.old_label} → {self.new_label}"

    @property
    def tags_added(self) -> list[str]:
        return sorted(set(self.new_value or ()) - set(self.old_value or ()))

    @property
    def tags_removed(self) -> list[str]:
        return sorted(set(self.old_value or ()) - set(self.new_value or ()))
