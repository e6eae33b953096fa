"""The ticket's thread as the page draws it: one page of comments, each already holding what
its row shows (`tickets/_comment.html`).

A page's messages are read in a fixed handful of queries, whatever its size and the ticket's:
the page's ids first, from the narrow (ticket, created_at, id) index, then those rows with
their authors by primary key. Reading whole joined rows with OFFSET made PostgreSQL join and
sort all 5,000 comments of a full ticket to keep the newest 100 (64 ms). The files and
earlier versions come as plain values, one query each.

Each message then holds its row worked out once, in Python: the author's initials, the
@handle, picture and links the channel knows (`tickets.origins`), already checked to be
http(s). The template does no lookup that can fail and calls no filter per row beyond
formatting: drawing 100 comments through the model (properties, related managers, a missing
origin looked up attribute by attribute) cost most of the page's time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import dateformat
from django.utils.formats import get_format
from django.utils.timezone import localtime

from .mail.models import EmailAttachment
from .models import Channel, Comment, CommentRevision, Ticket
from .origins import Media, Origin, origins_of
from .templatetags.safe_urls import http_url
from .templatetags.thread import initials

CHANNEL_LABELS = dict(Channel.choices)
DELIVERY_LABELS = dict(Comment.Delivery.choices)
# What the thread shows of a comment: everything else (the search vector, above all) stays in the database.
COLUMNS = (
    "id", "author_user_id", "author_requester_id", "body", "is_public", "channel", "delivery", "delivery_error",
    "external_url", "created_at",
    "author_user__username", "author_user__first_name", "author_user__last_name", "author_requester__name",
    "inbound_email__id",
)


@dataclass(frozen=True, slots=True)
class Attachment:
    pk: int
    filename: str
    size: int


@dataclass(frozen=True, slots=True)
class Revision:
    replaced_at: datetime
    body: str


@dataclass(slots=True)
class Message:
    """One comment as its row in the thread shows it. URLs that came from outside are empty
    unless they are plain http(s)."""

    pk: int
    anchor: str  # the row's id in the page ("comment-12")
    created_at: datetime
    # The time as `{{ created_at|date:"c" }}` and `{{ created_at }}` would print it: a
    # number or a date the template prints goes through the locale's formats, the costliest
    # part of drawing a row.
    created_iso: str
    created_label: str
    body: str
    author_name: str
    author_user_id: int | None
    is_internal: bool
    channel: str
    channel_label: str
    delivery: str
    delivery_label: str
    delivery_error: str
    initials: str
    avatar_url: str = ""
    handle: str = ""
    profile_url: str = ""
    view_url: str = ""
    view_label: str = ""
    media: tuple[Media, ...] = ()
    revisions: list[Revision] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    has_original_email: bool = False


def page_of(ticket: Ticket, number: str | int | None) -> Page:
    """Page `number` of the ticket's thread (the newest without one: agents answer the latest
    message, and the reply box sits right under it), its object_list the page's messages."""
    ids = ticket.comments.order_by("created_at", "id").values_list("pk", flat=True)
    paginator = Paginator(ids, settings.COMMENTS_PER_PAGE)
    page = paginator.get_page(number or paginator.num_pages)
    return Page(messages(Comment.objects.filter(pk__in=list(page.object_list))), page.number, paginator)


def messages(comments: QuerySet[Comment]) -> list[Message]:
    """The thread's messages for a queryset of comments (read here with only the columns the
    thread shows), oldest first."""
    rows = list(
        comments.select_related("author_user", "author_requester", "inbound_email")
        .only(*COLUMNS)
        # Most messages were never edited and carry no file: asked per row here, the two
        # lists below are read only for the rows that have some.
        .annotate(edited=Exists(CommentRevision.objects.filter(comment=OuterRef("pk"))),
                  with_files=Exists(EmailAttachment.objects.filter(comment=OuterRef("pk"))))
        .order_by("created_at", "id")
    )
    origins = origins_of(rows)
    revisions = _revisions([c.pk for c in rows if c.edited])
    attachments = _attachments([c.pk for c in rows if c.with_files])
    datetime_format = get_format("DATETIME_FORMAT")
    return [
        _message(c, origins.get(c.pk), revisions.get(c.pk, []), attachments.get(c.pk, []), datetime_format)
        for c in rows
    ]


def _message(comment: Comment, origin: Origin | None, revisions: list[Revision], attachments: list[Attachment],
             datetime_format: str) -> Message:
    author = comment.author_name
    created = localtime(comment.created_at)
    message = Message(
        pk=comment.pk,
        anchor=f"comment-{comment.pk}",
        created_at=comment.created_at,
        created_iso=created.isoformat(),
        created_label=dateformat.format(created, datetime_format),
        body=comment.body,
        author_name=author,
        author_user_id=comment.author_user_id,
        is_internal=not comment.is_public,
        channel=comment.channel,
        channel_label=CHANNEL_LABELS.get(comment.channel, comment.channel),
        delivery=comment.delivery,
        delivery_label=DELIVERY_LABELS.get(comment.delivery, comment.delivery),
        delivery_error=comment.delivery_error,
        initials=initials(author),
        revisions=revisions,
        attachments=attachments,
        # A reverse one-to-one: the joined row, or none (hasattr is False then).
        has_original_email=hasattr(comment, "inbound_email"),
    )
    if origin is not None:
        message.avatar_url = http_url(origin.avatar_url)
        message.handle = origin.handle
        message.profile_url = http_url(origin.profile_url)
        message.media = tuple(_safe_media(origin.media))
        view = http_url(origin.view_url)
        if view:
            message.view_url, message.view_label = view, origin.view_label
    if not message.view_url:
        message.view_url = http_url(comment.external_url)
        message.view_label = "view original" if message.view_url else ""
    return message


def _safe_media(media: Iterable[Media]) -> Iterable[Media]:
    """Pictures whose both URLs are plain http(s), as the template may use them."""
    for m in media:
        image, opens = http_url(m.image_url), http_url(m.open_url)
        if image and opens:
            yield Media(kind=m.kind, image_url=image, open_url=opens, alt=m.alt, width=m.width, height=m.height)


def _revisions(pks: list[int]) -> dict[int, list[Revision]]:
    found: dict[int, list[Revision]] = defaultdict(list)
    if not pks:
        return found
    rows = (CommentRevision.objects.filter(comment_id__in=pks).order_by("replaced_at", "id")
            .values_list("comment_id", "replaced_at", "body"))
    for comment_id, replaced_at, body in rows:
        found[comment_id].append(Revision(replaced_at, body))
    return found


def _attachments(pks: list[int]) -> dict[int, list[Attachment]]:
    found: dict[int, list[Attachment]] = defaultdict(list)
    if not pks:
        return found
    rows = EmailAttachment.objects.filter(comment_id__in=pks).order_by("id").values_list("comment_id", "id", "filename",
                                                                                          "size")
    for comment_id, pk, filename, size in rows:
        found[comment_id].append(Attachment(pk, filename, size))
    return found
