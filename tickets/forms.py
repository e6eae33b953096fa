"""Forms of the ticket page and the queue's bulk actions."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_unicode_slug

from .access import assignable_groups
from .models import Group, Ticket, User


def _agents():
    return User.objects.filter(is_active=True).order_by("first_name", "username")


class ReplyForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), label="Message", strip=True)
    kind = forms.ChoiceField(
        choices=[("public", "Public reply"), ("internal", "Internal note")],
        initial="public",
        widget=forms.RadioSelect,
    )
    # "Submit as Solved": the reply and the status change in one step, as agents expect.
    then_status = forms.ChoiceField(
        required=False,
        label="and set status to",
        choices=[("", "(unchanged)"), *((v, label) for v, label in Ticket.Status.choices if v != Ticket.Status.NEW)],
    )

    EMAIL = "email"

    def __init__(self, *args, email_address: str | None = None, **kwargs):
        """`email_address`: offer "Reply by email" to it (tickets not on the email channel,
        whose requester has an address); the reply then leaves by email, not on the channel."""
        super().__init__(*args, **kwargs)
        if email_address:
            self.fields["kind"].choices = [
                *self.fields["kind"].choices,
                (self.EMAIL, f"Reply by email (to {email_address})"),
            ]

    @property
    def is_public(self) -> bool:
        return self.cleaned_data["kind"] in ("public", self.EMAIL)

    @property
    def by_email(self) -> bool:
        return self.cleaned_data["kind"] == self.EMAIL


class RequesterEmailForm(forms.Form):
    """An agent adds the requester's address by hand (given on the phone, in a DM...)."""

    email = forms.EmailField(label="Add an email address", max_length=254)


class TicketPropertiesForm(forms.Form):
    status = forms.ChoiceField(choices=Ticket.Status.choices)
    priority = forms.TypedChoiceField(coerce=int, choices=Ticket.Priority.choices)
    assignee = forms.ModelChoiceField(queryset=User.objects.none(), required=False, empty_label="Unassigned")
    group = forms.ModelChoiceField(queryset=Group.objects.none(), required=False, empty_label="No group")
    tags = forms.CharField(required=False, help_text="Separated by commas or spaces", max_length=1000)

    def __init__(self, *args, user: User, ticket: Ticket, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "status": ticket.status,
                "priority": ticket.priority,
                "assignee": ticket.assignee_id,
                "group": ticket.group_id,
                "tags": " ".join(t.name for t in ticket.tags.all()),
            },
        )
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = _agents()
        self.fields["group"].queryset = assignable_groups(user, ticket.group)

    def clean_tags(self) -> list[str]:
        return split_tags(self.cleaned_data["tags"])


def split_tags(text: str) -> list[str]:
    names = [t.lower() for t in text.replace(",", " ").split()]
    for name in names:
        try:
            validate_unicode_slug(name)
        except ValidationError:
            raise ValidationError(f"“{name}” is not a valid tag: letters, digits, - and _ only.") from None
        if len(name) > 80:
            raise ValidationError(f"“{name[:20]}…” is longer than 80 characters.")
    return names


class TicketIdsField(forms.Field):
    """The checked rows of the queue: a list of ticket ids (which of them the user may act on
    is decided by the view against visible_tickets, not here)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[int]:
        if not value:
            return []
        try:
            return sorted({int(v) for v in value})
        except (TypeError, ValueError):
            raise ValidationError("Invalid ticket selection.") from None

    def validate(self, value) -> None:
        if not value:
            raise ValidationError("Select at least one ticket.")


class BulkActionForm(forms.Form):
    ASSIGN, STATUS, TAG, DELETE = "assign", "status", "tag", "delete"

    ticket_ids = TicketIdsField()
    action = forms.ChoiceField(
        choices=[(ASSIGN, "Assign"), (STATUS, "Set status"), (TAG, "Add tag"), (DELETE, "Delete")]
    )
    assignee = forms.ModelChoiceField(queryset=User.objects.none(), required=False, empty_label="Unassigned")
    status = forms.ChoiceField(
        required=False, choices=[(v, label) for v, label in Ticket.Status.choices if v != Ticket.Status.NEW]
    )
    tag = forms.CharField(required=False, max_length=80)
    confirmed = forms.BooleanField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = _agents()

    def clean(self):
        data = super().clean()
        if data.get("action") == self.TAG:
            tags = split_tags(data.get("tag") or "")
            if len(tags) != 1:
                raise ValidationError("Give one tag to add.")
            data["tag"] = tags[0]
        if data.get("action") == self.STATUS and not data.get("status"):
            raise ValidationError("Choose a status.")
        return data
