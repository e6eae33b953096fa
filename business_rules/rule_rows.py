"""The condition and action rows that triggers, automations and SLA policies are made of.

Abstract: each rule family keeps its own tables (and its foreign key to the rule), while the
row's fields, order and description are written once. Conditions are checked by
`business_rules.conditions`, actions by `business_rules.actions`.
"""

from __future__ import annotations

from django.db import models

from .actions import describe_action
from .conditions import describe_condition


class ConditionRow(models.Model):
    class Kind(models.TextChoices):
        ALL = "all", "Meet ALL of these conditions"
        ANY = "any", "Meet ANY of these conditions"

    kind = models.CharField(max_length=3, choices=Kind.choices, default=Kind.ALL)
    # Field, operator and value are validated together (business_rules.conditions) on save.
    field = models.CharField(max_length=40)
    operator = models.CharField(max_length=20)
    value = models.CharField(max_length=500, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return describe_condition(self.field, self.operator, self.value)


class ActionRow(models.Model):
    action = models.CharField(max_length=40)
    value = models.CharField(max_length=500, blank=True)
    # Used by the email actions only.
    subject = models.CharField(max_length=255, blank=True)
    # Email body, internal note or reply text; may hold {{placeholders}}.
    body = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return describe_action(self.action, self.value)
