"""X accounts connected to the helpdesk and everything fetched from them."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

# Each flow keeps its records in its own folder (answering/, intake/, costs/, realtime/,
# compliance/); imported here so they belong to this app and its migrations.
from twitter_channel.answering.models import OutgoingMessage  # noqa: F401
from twitter_channel.compliance.models import ComplianceJobRun, XDeletion  # noqa: F401
from twitter_channel.costs.models import XBudget, XCostDay, XCostSeenItem  # noqa: F401
from twitter_channel.crypto import EncryptedTextField
from twitter_channel.intake.models import BulkConversion  # noqa: F401
from twitter_channel.realtime.models import (  # noqa: F401
    ActivityEvent,
    ActivitySubscription,
    RequesterProfileSubscription,
    WebhookHealth,
)

# The OAuth scopes the helpdesk asks X for, and what each one lets it do: an account whose
# grant lacks one is told which and why (X's consent page lets the person untick scopes).
SCOPE_PURPOSES = {
    "tweet.read": "read mentions and posts",
    "users.read": "read who wrote them",
    "tweet.write": "reply publicly",
    "like.read": "read the brand's likes",
    "dm.read": "read direct messages",
    "dm.write": "answer by DM",
    "offline.access": "stay connected (renew the token without you)",
}


class XAccount(models.Model):
    """A brand account on X, connected by an admin through OAuth 2.0."""

    user_id = models.CharField(max_length=25, unique=True)
    username = models.CharField(max_length=50, unique=True)
    display_name = models.CharField(max_length=200, blank=True)
    avatar_url = models.URLField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    # Tokens are encrypted at rest and never shown, logged or put in a form.
    access_token = EncryptedTextField(blank=True, default="")
    refresh_token = EncryptedTextField(blank=True, default="")
    token_expires_at = models.DateTimeField(null=True, blank=True)
    scopes = models.CharField(max_length=300, blank=True)

    capture_mentions = models.BooleanField(default=True)
    capture_dms = models.BooleanField(default=True)
    capture_likes = models.BooleanField(default=True)
    allowed_for_replies = models.BooleanField(default=True)
    append_ticket_link_default = models.BooleanField(default=False)
    # An agent who answers an unassigned ticket from this account takes it (replies.queue_reply).
    assign_on_reply = models.BooleanField(default=False)
    ignore_retweets = models.BooleanField(default=True)
    default_group = models.ForeignKey(
        "tickets.Group", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    is_active = models.BooleanField(default=True)
    needs_reconnect = models.BooleanField(default=False)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)

    # Real-time intake (twitter_channel/realtime/): X pushes events through the Activity API
    # and polling keeps running, slower, to reconcile what the push path missed.
    class IntakeMode(models.TextChoices):
        POLLING = "polling", "Polling only"
        WEBHOOK = "webhook", "Real time by webhook, polling reconciles"
        STREAM = "stream", "Real time by stream, polling reconciles"

    intake_mode = models.CharField(max_length=10, choices=IntakeMode.choices, default=IntakeMode.POLLING)
    realtime_since = models.DateTimeField(null=True, blank=True)
    last_event_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "X account"
        ordering = ["username"]

    def __str__(self) -> str:
        return f"@{self.username}"

    @property
    def is_polling(self) -> bool:
        return self.is_active and not self.needs_reconnect

    def missing_scopes(self) -> dict[str, str]:
        """The scopes the helpdesk needs that X's grant lacks, with what each is for. An
        account without a recorded grant (added by `x_account add`) is not second-guessed."""
        granted = set(self.scopes.split())
        if not granted:
            return {}
        return {scope: purpose for scope, purpose in SCOPE_PURPOSES.items() if scope not in granted}

    def captures(self, stream: str) -> bool:
        return {
            Stream.MENTIONS: self.capture_mentions,
            Stream.DMS: self.capture_dms,
            Stream.LIKES: self.capture_likes,
        }[stream]


class Stream(models.TextChoices):
    MENTIONS = "mentions", "Mentions"
    DMS = "dms", "Direct messages"
    LIKES = "likes", "Likes"


class StreamCursor(models.Model):
    """Where polling of one stream of one account stands, and when it may poll next.

    The row doubles as the poll lock: a poll holds `select_for_update(skip_locked=True)` on
    it for its whole run, so two polls of one account+stream never overlap.
    """

    account = models.ForeignKey(XAccount, on_delete=models.CASCADE, related_name="cursors")
    stream = models.CharField(max_length=10, choices=Stream.choices)
    # Mentions: X's since_id. DMs and likes have no since_id: the newest id seen, where the
    # next walk through the pages stops.
    since_id = models.CharField(max_length=25, blank=True)
    last_seen_id = models.CharField(max_length=25, blank=True)
    # Likes: the ids of the most recently liked posts seen (likes come in like order, not id order).
    recent_ids = models.JSONField(default=list, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_poll_at = models.DateTimeField(default=timezone.now)
    # Set by the dispatcher when it enqueues a poll, so the next tick does not enqueue it again;
    # a poll whose worker died is dispatched again once the claim is older than X_POLL_CLAIM_SECONDS.
    claimed_at = models.DateTimeField(null=True, blank=True)
    rate_limit = models.PositiveIntegerField(null=True, blank=True)
    rate_remaining = models.PositiveIntegerField(null=True, blank=True)
    rate_reset_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    items_fetched = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "stream"], name="unique_cursor_per_stream")]
        indexes = [models.Index(fields=["next_poll_at"])]

    def __str__(self) -> str:
        return f"{self.account} {self.stream}"


class IncomingItem(models.Model):
    """Everything fetched from X, stored once with its raw JSON before anything else happens."""

    class Kind(models.TextChoices):
        MENTION = "mention", "Mention"
        DM = "dm", "Direct message"
        LIKE = "like", "Like by the brand"
        OWN_TWEET = "own_tweet", "Brand's own tweet"
        OWN_DM = "own_dm", "Brand's own DM"

    class State(models.TextChoices):
        NEW = "new", "New"
        TICKETED = "ticketed", "On a ticket"
        IGNORED = "ignored", "Ignored"
        NOT_CAPTURED = "not_captured", "Not captured"
        GROUP_DM = "group_dm", "Group DM"
        RETWEET = "retweet", "Retweet"
        QUARANTINED = "quarantined", "Quarantined"
        OWN = "own", "Brand's own"

    account = models.ForeignKey(XAccount, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    x_id = models.CharField(max_length=64)
    raw = models.JSONField(default=dict)

    # What conversion needs, parsed once by the adapter at fetch time.
    author_x_id = models.CharField(max_length=25, blank=True)
    author_handle = models.CharField(max_length=50, blank=True)
    author_name = models.CharField(max_length=200, blank=True)
    author_avatar_url = models.URLField(max_length=500, blank=True)
    author_followers = models.PositiveIntegerField(null=True, blank=True)
    author_verified = models.BooleanField(default=False)
    text = models.TextField(blank=True)
    urls = models.JSONField(default=list, blank=True)  # [[t.co url, expanded url], ...]
    x_created_at = models.DateTimeField(null=True, blank=True)
    # Tweets: conversation_id (the thread's root). DMs: dm_conversation_id.
    conversation_key = models.CharField(max_length=64, blank=True)
    in_reply_to_id = models.CharField(max_length=25, blank=True)
    is_retweet = models.BooleanField(default=False)
    is_quote = models.BooleanField(default=False)
    mentioned_usernames = models.JSONField(default=list, blank=True)
    is_group = models.BooleanField(default=False)
    # Photos, videos and GIFs attached, as the adapter parsed them (`XMedia.stored`):
    # [{"key", "type", "image_url", "width", "height", "alt"}]. The thread shows them; the
    # agent's browser loads the images from X's CDN, the helpdesk never fetches them.
    media = models.JSONField(default=list, blank=True)

    state = models.CharField(max_length=12, choices=State.choices, default=State.NEW)
    state_reason = models.TextField(blank=True)
    # The business-rules noise rule that ignored the item (an id, not a foreign key: the
    # rule may be deleted later and the item must still say why it was left aside).
    ignored_by_rule_id = models.PositiveIntegerField(null=True, blank=True)
    rule = models.CharField(max_length=200, blank=True)
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="x_items"
    )
    comment = models.ForeignKey(
        "tickets.Comment", null=True, blank=True, on_delete=models.SET_NULL, related_name="x_items"
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    fetched_at = models.DateTimeField(default=timezone.now)
    converted_at = models.DateTimeField(null=True, blank=True)
    # Real time: when a reconciliation poll stored this item before push brought it; cleared
    # if push brings it after all (`intake.reconcile`).
    polled_before_push_at = models.DateTimeField(null=True, blank=True)
    # Set when the post or DM was deleted on X: text, raw JSON and media are gone, ids kept.
    redacted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "kind", "x_id"], name="unique_item_per_account_kind"),
        ]
        indexes = [
            # The incoming stream and the quarantine list filter on these.
            models.Index(fields=["account", "state", "-fetched_at"]),
            models.Index(fields=["state", "-fetched_at"]),
            models.Index(fields=["kind", "state"]),
            # Thread and DM-conversation lookups during conversion.
            models.Index(fields=["account", "conversation_key"]),
            # The converter takes new items oldest first.
            models.Index(fields=["id"], condition=Q(state="new"), name="item_pending_idx"),
            models.Index(fields=["account", "polled_before_push_at"], condition=Q(polled_before_push_at__isnull=False),
                         name="item_polled_before_push_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.x_id}"

    @property
    def tweet_url(self) -> str:
        if self.kind in (self.Kind.DM, self.Kind.OWN_DM) or self.x_id.startswith("malformed:"):
            return ""
        return f"https://x.com/{self.author_handle or 'i'}/status/{self.x_id}"
