"""Automations: time-based rules, run by beat over the tickets their conditions match."""

from __future__ import annotations

from django.db import models

from ..rule_rows import ActionRow, ConditionRow


class Automation(models.Model):
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


class AutomationCondition(ConditionRow):
    automation = models.ForeignKey(Automation, on_delete=models.CASCADE, related_name="conditions")


class AutomationAction(ActionRow):
    automation = models.ForeignKey(Automation, on_delete=models.CASCADE, related_name="actions")


class AutomationFiring(models.Model):
    """An automation fired on a ticket in one condition state.

    `anchor` is the latest of the moments the automation's time conditions count from (the
    status change, the requester's last message, the due time…). The automation fires once
    per anchor: a pending ticket is reminded once, and again only after it left Pending and
    came back (a new status change, a new anchor).
    """

    automation = models.ForeignKey(Automation, on_delete=models.CASCADE, related_name="firings")
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="automation_firings")
    anchor = models.DateTimeField()
    fired_at = models.DateTimeField(auto_now_add=True, db_index=True)
    problems = models.TextField(blank=True)

    class Meta:
        ordering = ["-fired_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["automation", "ticket", "anchor"], name="unique_automation_firing"),
        ]

    def __str__(self) -> str:
        return f"{self.automation} on #{self.ticket_id}"
