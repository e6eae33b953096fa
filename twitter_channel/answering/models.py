"""What the helpdesk sends to X, one row per outgoing tweet or DM.

The row exists before anything is sent and records every attempt, so a retry (by Celery or
by a person) can tell "never reached X" from "may have reached X" and look before posting
again: X has no idempotency key for posts, and the same post twice is what customers see.
Its delivery fields (state, attempts, the next attempt's time) are the shared outbox's
(`tickets/outbox.py`), which sweeps up rows whose task never ran or died.
"""

from __future__ import annotations

from django.db import models

from tickets.outbox import Outbox


class OutgoingMessage(Outbox):
    class Kind(models.TextChoices):
        TWEET = "tweet", "Public reply"
        DM = "dm", "Direct message"

    comment = models.OneToOneField("tickets.Comment", on_delete=models.CASCADE, related_name="x_outgoing")
    account = models.ForeignKey("twitter_channel.XAccount", on_delete=models.PROTECT, related_name="outgoing")
    kind = models.CharField(max_length=5, choices=Kind.choices)
    # Exactly the text sent to X (the agent's words, the ticket link if appended).
    text = models.TextField()
    in_reply_to_tweet_id = models.CharField(max_length=25, blank=True)
    # The X user answered: the DM participant, or the author of the post replied to.
    recipient_x_id = models.CharField(max_length=25, blank=True)
    dm_conversation_id = models.CharField(max_length=64, blank=True)

    # The tweet id or DM event id X gave the post; blank when X only told us it was a
    # duplicate and the post could not be found again.
    x_id = models.CharField(max_length=64, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "last_attempt_at"]),
                   models.Index(fields=["state", "next_attempt_at"], name="outgoing_x_due")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for comment {self.comment_id} ({self.state})"

    @property
    def is_tweet(self) -> bool:
        return self.kind == self.Kind.TWEET
