"""Business rules: triggers that act on ticket updates, and noise rules that keep unwanted
X items from becoming tickets.

Both are read on hot paths (every ticket update, every polled tweet), so they are compiled
once into memory and cached per process; `RulesVersion` is how one process tells the
others that the cached copy is out of date (see `business_rules.cache`).
"""

from __future__ import annotations

import secrets

from django.db import models

# Automations, macros and service levels keep their models next to their logic; imported
# here so they belong to this app and its migrations.
from .automations.models import Automation, AutomationAction, AutomationCondition, AutomationFiring  # noqa: F401
from .macros.models import Macro, MacroAction  # noqa: F401
from .rule_rows import ActionRow, ConditionRow
from .sla.models import (  # noqa: F401
    Holiday,
    Schedule,
    ScheduleInterval,
    SlaPolicy,
    SlaPolicyCondition,
    SlaTarget,
    TicketClocks,
)


class RulesVersion(models.Model):
    """One version stamp per rule family, replaced on every change to the family's rows.

    A random stamp, not a counter: a counter bumped in a transaction that rolls back
    would be bumped to the same number again by the next change, and a process that
    cached rules during the rolled-back transaction would take them for current.
    """

    name = models.CharField(max_length=20, primary_key=True)
    version = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name} {self.version}"

    @classmethod
    def bump(cls, name: str) -> int:
        stamp = secrets.randbits(62) + 1
        if not cls.objects.filter(name=name).update(version=stamp):
            cls.objects.update_or_create(name=name, defaults={"version": stamp})
        return stamp

    @classmethod
    def current(cls, name: str) -> int:
        return cls.objects.filter(name=name).values_list("version", flat=True).first() or 0


class NoiseRule(models.Model):
    """Which incoming X items to leave out of the ticket queue.

    A rule ignores an item when ANY of its enabled checks hits; the rule list is read in
    position order and the first hit wins. A rule without an account applies to every
    account.
    """

    name = models.CharField(max_length=200)
    account = models.ForeignKey(
        "twitter_channel.XAccount",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="noise_rules",
        help_text="Leave empty to apply to every X account.",
    )
    active = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0, db_index=True)
    ignore_retweets = models.BooleanField(default=False)
    ignore_quotes = models.BooleanField(default=False, verbose_name="ignore quote posts")
    ignore_bare_mentions = models.BooleanField(
        default=False,
        help_text="Ignore posts with nothing but @handles and links in them.",
    )
    blocked_authors = models.TextField(
        blank=True,
        help_text="X usernames (with or without @) or numeric user ids, one per line or comma separated.",
    )
    ignore_keywords = models.TextField(
        blank=True,
        help_text="Ignore posts containing any of these words or phrases (one per line or comma separated).",
    )
    require_keywords = models.TextField(
        blank=True,
        help_text="Keep only posts containing at least one of these words or phrases.",
    )
    min_followers = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Ignore authors with fewer followers than this (authors whose count is unknown are kept).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class Trigger(models.Model):
    """A Zendesk-style trigger: when a ticket is created or updated and the conditions
    hold, the actions run. See `business_rules.engine` for the exact semantics."""

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    active = models.BooleanField(default=True, db_index=True)
    position = models.PositiveIntegerField(default=0, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.title


class TriggerCondition(ConditionRow):
    trigger = models.ForeignKey(Trigger, on_delete=models.CASCADE, related_name="conditions")


class TriggerAction(ActionRow):
    trigger = models.ForeignKey(Trigger, on_delete=models.CASCADE, related_name="actions")


class TriggerFiring(models.Model):
    """A record that a trigger fired on a ticket, with any action that could not be done
    (no email address, no sender for the channel…) so admins can see why."""

    trigger = models.ForeignKey(Trigger, on_delete=models.CASCADE, related_name="firings")
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="trigger_firings")
    fired_at = models.DateTimeField(auto_now_add=True, db_index=True)
    problems = models.TextField(blank=True)

    class Meta:
        ordering = ["-fired_at", "-id"]

    def __str__(self) -> str:
        return f"{self.trigger} on #{self.ticket_id}"
