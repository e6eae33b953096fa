"""Forms of the ticket page and the queue's bulk actions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_unicode_slug
from django.db import models

from .access import assignable_groups
from .models import Group, Ticket, User


def _agents():
    return User.objects.filter(is_active=True).order_by("first_name", "username")


class AnswerChoiceField(forms.ChoiceField):
    def valid_value(self, value) -> bool:
        # A plain "public" (an older page, a script, a test client) still means a public reply
        # on the ticket's channel, its sender choosing the way (`reply_option_mode` or its default).
        return value == ReplyForm.PUBLIC or super().valid_value(value)


class ReplyForm(forms.Form):
    """The reply box: the text, and one choice of how to answer it.

    The choice names where the reply goes and to whom: the channel's own ways (on X: a
    public reply to @alice under her post, or a DM to @alice, as `public:<mode>`), an email
    to the requester's address, or an internal note. Only what applies to the chosen way
    shows beside it (reply_box.js)."""

    PUBLIC = "public"
    EMAIL = "email"
    INTERNAL = "internal"

    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), label="Message", strip=True)
    kind = AnswerChoiceField(
        choices=[(PUBLIC, "Public reply"), (INTERNAL, "Internal note (agents only)")],
        initial=PUBLIC,
        widget=forms.RadioSelect,
        label="How to answer",
    )
    # "Submit as Solved": the reply and the status change in one step, as agents expect.
    then_status = forms.ChoiceField(
        required=False,
        label="and set status to",
        choices=[("", "(unchanged)"), *((v, label) for v, label in Ticket.Status.choices if v != Ticket.Status.NEW)],
    )

    # The ticket's status when the page was drawn: "and set status to" does not override a
    # status another agent set since.
    status_seen = forms.CharField(required=False, widget=forms.HiddenInput, max_length=20)

    def __init__(self, *args, email_address: str | None = None, channel_modes: list[tuple[str, str]] = (),
                 default_mode: str = "", **kwargs):
        """`email_address`: offer an email to it (tickets not on the email channel, whose
        requester has an address); the reply then leaves by email, not on the channel.
        `channel_modes`: the channel's ways of answering, [(mode, label)] (tickets.panels),
        shown instead of the plain "Public reply", `default_mode` chosen at first."""
        super().__init__(*args, **kwargs)
        public = [(f"{self.PUBLIC}:{mode}", label) for mode, label in channel_modes] or [(self.PUBLIC, "Public reply")]
        email = [(self.EMAIL, f"Email to {email_address}")] if email_address else []
        self.fields["kind"].choices = [*public, *email, (self.INTERNAL, "Internal note (agents only)")]
        if channel_modes:
            self.fields["kind"].initial = f"{self.PUBLIC}:{default_mode or channel_modes[0][0]}"

    @property
    def answer(self) -> str:
        """The way of answering chosen (or shown first): a channel mode ("tweet", "dm"),
        "public", "email" or "internal". Panels show only what applies to it."""
        value = str(self["kind"].value() or "")
        return value.partition(":")[2] or value

    @property
    def is_public(self) -> bool:
        return self.cleaned_data["kind"] != self.INTERNAL

    @property
    def channel_mode(self) -> str:
        """The channel's way chosen ("tweet", "dm"), "" for any other choice."""
        kind = self.cleaned_data["kind"]
        return kind.partition(":")[2] if kind.startswith(f"{self.PUBLIC}:") else ""

    @property
    def status_when_drawn(self) -> str:
        return self.cleaned_data.get("status_seen") or ""

    @property
    def by_email(self) -> bool:
        return self.cleaned_data["kind"] == self.EMAIL


class RequesterEmailForm(forms.Form):
    """An agent adds the requester's address by hand (given on the phone, in a DM...)."""

    email = forms.EmailField(label="Add an email address", max_length=254)


@dataclass
class PropertyEdit:
    """What an agent changed on the properties form, as `update_ticket` takes it."""

    fields: dict[str, Any]  # field name -> new value, only those the agent changed
    expected: dict[str, Any]  # Ticket attribute -> the value the agent's page showed
    add_tags: set[str]
    remove_tags: set[str]
    tags: list[str] | None = None  # replace all tags (a post without the page's values)


class TicketPropertiesForm(forms.Form):
    # show_hidden_initial: each field also posts back the value the page was drawn with
    # (a hidden "initial-<name>" input), so a save applies only what this agent changed and
    # can tell a change made by someone else since (see `edit`).
    status = forms.ChoiceField(choices=Ticket.Status.choices, show_hidden_initial=True)
    priority = forms.TypedChoiceField(coerce=int, choices=Ticket.Priority.choices, show_hidden_initial=True)
    assignee = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, empty_label="Unassigned", show_hidden_initial=True
    )
    group = forms.ModelChoiceField(
        queryset=Group.objects.none(), required=False, empty_label="No group", show_hidden_initial=True
    )
    tags = forms.CharField(
        required=False, help_text="Separated by commas or spaces", max_length=1000, show_hidden_initial=True
    )

    # form field -> Ticket attribute compared for conflicts
    ATTRIBUTES = {"status": "status", "priority": "priority", "assignee": "assignee_id", "group": "group_id"}

    def __init__(self, *args, user: User, ticket: Ticket, **kwargs):
        kwargs.setdefault("initial", self.values_of(ticket))
        super().__init__(*args, **kwargs)
        self._user = user
        self.fields["assignee"].queryset = _agents()
        self.fields["group"].queryset = assignable_groups(user, ticket.group)

    @staticmethod
    def values_of(ticket: Ticket) -> dict[str, Any]:
        return {
            "status": ticket.status,
            "priority": ticket.priority,
            "assignee": ticket.assignee_id,
            "group": ticket.group_id,
            "tags": " ".join(sorted(t.name for t in ticket.tags.all())),
        }

    def clean_tags(self) -> list[str]:
        return split_tags(self.cleaned_data["tags"])

    def seen(self, name: str) -> Any:
        """The value this field had when the page was drawn, as posted back; `MISSING` when
        the post does not carry it (a script, a page older than this form)."""
        raw = self.data.get(self.add_initial_prefix(name))
        if raw is None:
            return MISSING
        try:
            if name == "tags":
                return set(split_tags(raw))
            if name in ("assignee", "group"):
                return int(raw) if raw else None
            return self.fields[name].clean(raw)
        except (TypeError, ValueError, ValidationError):
            return MISSING

    def edit(self) -> PropertyEdit:
        """The fields this agent changed on their page, with what the page showed of them.

        Only those are saved: a field left as the page showed it is not written back, so
        what another agent set since survives. Tags are changed as the agent's additions
        and removals, never replaced wholesale."""
        data = self.cleaned_data
        edit = PropertyEdit(fields={}, expected={}, add_tags=set(), remove_tags=set())
        for name, attribute in self.ATTRIBUTES.items():
            wanted, seen = data[name], self.seen(name)
            wanted_value = wanted.pk if isinstance(wanted, models.Model) else wanted
            if seen is MISSING:
                edit.fields[name] = wanted  # compared with the ticket as it is now: last write wins
            elif wanted_value != seen:
                edit.fields[name] = wanted
                edit.expected[attribute] = seen
        seen_tags = self.seen("tags")
        if seen_tags is MISSING:
            edit.tags = data["tags"]
        else:
            edit.add_tags = set(data["tags"]) - seen_tags
            edit.remove_tags = seen_tags - set(data["tags"])
        return edit

    def for_retry(self, ticket: Ticket) -> TicketPropertiesForm:
        """This form as posted (the agent's choices kept), but drawn from the ticket as it
        is now: submitting it again applies the agent's choices over what they were shown."""
        data = self.data.copy()
        for name, value in self.values_of(ticket).items():
            data[self.add_initial_prefix(name)] = "" if value is None else str(value)
        retry = type(self)(data, user=self._user, ticket=ticket)
        retry.is_valid()
        return retry


MISSING = object()


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


class SeenRowsField(forms.Field):
    """What the queue page showed of each row, posted back as "id:status:assignee_id"
    (assignee empty when unassigned), so a bulk change can tell which rows another agent
    changed since. Unreadable entries are ignored: such rows are not checked."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> dict[int, dict[str, Any]]:
        rows = {}
        for entry in value or ():
            try:
                pk, status, assignee = str(entry).split(":")
                rows[int(pk)] = {"status": status, "assignee_id": int(assignee) if assignee else None}
            except ValueError:
                continue
        return rows


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
    seen = SeenRowsField(required=False)

    # The value each action reads. The queue page sends every control's value (a browser
    # without JavaScript shows them all): the other actions' values are not read at all,
    # neither applied nor validated, so what the agent could not see never matters.
    ACTION_FIELDS = {ASSIGN: "assignee", STATUS: "status", TAG: "tag", DELETE: None}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = _agents()
        chosen = self.ACTION_FIELDS.get(self.data.get("action")) if self.is_bound else None
        for name in self.ACTION_FIELDS.values():
            if name and name != chosen and self.is_bound:
                del self.fields[name]

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
