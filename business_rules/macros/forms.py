"""One form for a macro, in the admin (shared macros) and on an agent's own page.

The actions are plain fields ("Set status: Pending", "Add tags: refund") rather than rows
to add: a macro sets each property at most once, and a person reads the form at a glance.
They are stored as `MacroAction` rows in the triggers' vocabulary (business_rules/actions.py).
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from tickets.access import assignable_groups
from tickets.models import Group, User

from ..actions import PRIORITIES, SETTABLE_STATUSES, clean_action
from ..placeholders import KNOWN, check_placeholders
from .models import CURRENT_USER, Macro, MacroAction

UNCHANGED = ""
CLEAR = "-"  # "No group" / "Unassigned": stored as the action's empty value


def _placeholder_help() -> str:
    # The comment's placeholders belong to triggers (the update's comment): empty in a macro.
    names = [name for name in KNOWN if not name.startswith("comment.")]
    return "The reply it writes, filled in for the ticket: " + ", ".join(f"{{{{{n}}}}}" for n in names) + "."


class MacroForm(forms.ModelForm):
    set_status = forms.ChoiceField(required=False, label="Set status")
    set_priority = forms.ChoiceField(required=False, label="Set priority")
    set_group = forms.ChoiceField(required=False, label="Set group")
    set_assignee = forms.ChoiceField(required=False, label="Set assignee")
    add_tags = forms.CharField(required=False, max_length=500, help_text="Separated by commas or spaces")
    remove_tags = forms.CharField(required=False, max_length=500, help_text="Separated by commas or spaces")

    ACTION_FIELDS = ("set_status", "set_priority", "set_group", "set_assignee", "add_tags", "remove_tags")

    class Meta:
        model = Macro
        fields = ["title", "body", "active"]
        widgets = {"body": forms.Textarea(attrs={"rows": 6})}

    def __init__(self, *args, user: User | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        unchanged = [(UNCHANGED, "(unchanged)")]
        self.fields["body"].help_text = _placeholder_help()
        self.fields["set_status"].choices = unchanged + list(SETTABLE_STATUSES)
        self.fields["set_priority"].choices = unchanged + list(PRIORITIES)
        groups = assignable_groups(user) if user is not None else Group.objects.all()
        self.fields["set_group"].choices = unchanged + [(CLEAR, "No group")] + [(str(g.pk), g.name) for g in groups]
        agents = User.objects.filter(is_active=True).order_by("first_name", "username")
        self.fields["set_assignee"].choices = (
            unchanged
            + [(CURRENT_USER, "The agent who applies it"), (CLEAR, "Unassigned")]
            + [(str(u.pk), str(u)) for u in agents]
        )
        if self.instance.pk:
            for action in self.instance.actions.all():
                if action.action in self.ACTION_FIELDS:
                    empty = action.value == "" and action.action in ("set_group", "set_assignee")
                    self.initial[action.action] = CLEAR if empty else action.value

    def clean_body(self) -> str:
        body = self.cleaned_data["body"]
        check_placeholders(body)
        return body

    def clean(self):
        cleaned = super().clean()
        self.actions: list[tuple[str, str]] = []
        for name in self.ACTION_FIELDS:
            value = (cleaned.get(name) or "").strip()
            if value == UNCHANGED:
                continue
            if value == CLEAR:
                value = ""
            if name == "set_assignee" and value == CURRENT_USER:
                self.actions.append((name, value))
                continue
            try:
                value, _, _ = clean_action(name, value, "", "")
            except ValidationError as exc:
                self.add_error(name, exc.message_dict.get("value", exc.messages))
                continue
            self.actions.append((name, value))
        owner = cleaned.get("owner") if "owner" in self.fields else self.instance.owner
        title = cleaned.get("title")
        if title and Macro.objects.filter(owner=owner, title=title).exclude(pk=self.instance.pk).exists():
            self.add_error("title", "There is already a macro with this title." if owner is None
                           else "You already have a macro with this title.")
        if not (cleaned.get("body") or "").strip() and not self.actions and not self.errors:
            raise ValidationError("A macro needs a text, an action, or both.")
        return cleaned

    def save_actions(self, macro: Macro) -> None:
        macro.actions.all().delete()
        MacroAction.objects.bulk_create(
            MacroAction(macro=macro, action=name, value=value, position=i) for i, (name, value) in enumerate(self.actions)
        )
