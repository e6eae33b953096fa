"""A macro and its actions."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from ..actions import ACTIONS, ActionSpec

# What a macro may do: the triggers' actions that change the ticket. Notes, emails and
# replies are the macro's own text, sent by the agent.
MACRO_ACTIONS: dict[str, ActionSpec] = {
    name: ACTIONS[name]
    for name in ("set_status", "set_priority", "set_group", "set_assignee", "add_tags", "remove_tags", "set_tags")
}
MACRO_ACTION_CHOICES = [(a.name, a.label) for a in MACRO_ACTIONS.values()]
# "Set assignee" to whoever applies the macro (Zendesk's "current user"): "take it" macros.
CURRENT_USER = "current_user"


class MacroQuerySet(models.QuerySet):
    def usable_by(self, user) -> MacroQuerySet:
        """The active macros `user` may apply: the shared ones and their own."""
        return self.filter(Q(owner__isnull=True) | Q(owner=user), active=True)


class Macro(models.Model):
    title = models.CharField(max_length=200)
    body = models.TextField(
        blank=True,
        help_text="The reply it writes. Placeholders such as {{requester.first_name}} and {{ticket.id}} are "
        "filled in for the ticket.",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="macros",
        help_text="Empty: shared with every agent. Otherwise only this agent sees it.",
    )
    active = models.BooleanField(default=True)
    usage_count = models.PositiveIntegerField(default=0, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MacroQuerySet.as_manager()

    class Meta:
        ordering = ["title", "id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "title"], name="macro_title_unique_per_owner"),
            models.UniqueConstraint(fields=["title"], condition=Q(owner__isnull=True), name="shared_macro_title_unique"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_shared(self) -> bool:
        return self.owner_id is None

    def count_use(self) -> None:
        # An UPDATE with F(): two agents applying it at once both count.
        Macro.objects.filter(pk=self.pk).update(usage_count=F("usage_count") + 1, last_used_at=timezone.now())


class MacroAction(models.Model):
    macro = models.ForeignKey(Macro, on_delete=models.CASCADE, related_name="actions")
    action = models.CharField(max_length=40, choices=MACRO_ACTION_CHOICES)
    value = models.CharField(max_length=500, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.action} {self.value}".strip()

    @property
    def value_label(self) -> str:
        """The value as a person reads it: a status's or group's name, not its code or id."""
        from tickets.events import label

        if self.action == "set_assignee" and self.value == CURRENT_USER:
            return "the agent who applies it"
        if self.action in ("set_group", "set_assignee", "set_status", "set_priority"):
            name = {"set_group": "group_id", "set_assignee": "assignee_id"}.get(self.action, self.action[4:])
            value = self.value or None
            if value is not None and name != "status":
                value = int(value)
            return label(name, value)
        return self.value
