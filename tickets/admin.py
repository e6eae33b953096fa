"""The Django admin: where admins manage agents, roles, groups and look things up.

Who gets in is decided by the role (User.save keeps is_staff equal to "is admin"), so an
agent or restricted agent never reaches these pages, even if someone ticked is_staff.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.postgres.search import SearchQuery
from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.db.models import Q
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from . import search
from .estimates import EstimatedCountPaginator
from .lifecycle import EditConflict, find_conflicts, update_ticket
from .mail.models import (
    EmailAttachment,
    EmailConfirmation,
    EmailRequest,
    InboundEmail,
    OutgoingEmail,
    OutgoingNotification,
)
from .models import Comment, Erasure, Group, Identity, Requester, Tag, Ticket, TicketEvent, User
from .privacy import erase_requester, export_requester


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "email", "first_name", "last_name", "role", "is_active", "last_login")
    list_filter = ("role", "is_active", "is_superuser", "groups_member_of")
    search_fields = ("username", "first_name", "last_name", "email")
    autocomplete_fields = ("groups_member_of", "allowed_groups")
    # is_staff is not editable: it follows the role. Django's own permission groups are not
    # shown either; the helpdesk's roles replace them.
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name", "email")}),
        ("Helpdesk", {"fields": ("role", "groups_member_of")}),
        (
            "Restricted agents only",
            {
                "fields": ("allowed_groups", "allowed_channels"),
                "description": "A restricted agent sees only tickets in these groups and/or on these channels "
                'e.g. ["x", "x_dm"]. Ignored for other roles.',
            },
        ),
        ("Status", {"fields": ("is_active", "is_superuser", "last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "email", "role", "password1", "password2")}),
    )
    readonly_fields = ("last_login", "date_joined")


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    list_display = ("name",)
    search_fields = ("name",)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("name",)
    search_fields = ("name",)


class IdentityInline(admin.TabularInline):
    model = Identity
    extra = 0
    fields = ("kind", "value", "handle", "display_name", "followers", "verified", "avatar_url", "confirmed_at",
              "is_primary", "added_by")
    readonly_fields = ("added_by",)


@admin.register(Requester)
class RequesterAdmin(admin.ModelAdmin):
    list_display = ("name", "created_at", "erased_at")
    search_fields = ("name", "identities__value", "identities__handle")
    readonly_fields = ("erased_at",)
    inlines = [IdentityInline]
    actions = ["export_personal_data", "erase_personal_data"]

    # Only admins reach the admin at all (User.save); these say so again for the two actions
    # that hand out or destroy a person's data, whatever permissions a row may carry.
    def has_privacy_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_admin

    @admin.action(description="Export the requester's data (zip)", permissions=["privacy"])
    def export_personal_data(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Export one requester at a time.", messages.ERROR)
            return None
        requester = queryset.get()
        response = HttpResponse(export_requester(requester), content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="requester-{requester.pk}.zip"'
        return response

    @admin.action(description="Erase the requester's personal data", permissions=["privacy"])
    def erase_personal_data(self, request, queryset):
        if request.POST.get("confirmed") != "yes":
            return TemplateResponse(request, "admin/tickets/requester/erase_confirmation.html", {
                **self.admin_site.each_context(request), "title": "Erase personal data", "requesters": queryset,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME, "opts": self.model._meta,
            })
        for requester in queryset:
            erase_requester(requester, by=request.user)
        self.message_user(request, f"Erased the personal data of {queryset.count()} requester(s); their tickets stay, "
                                   "anonymised.", messages.SUCCESS)
        return None


@admin.register(Erasure)
class ErasureAdmin(admin.ModelAdmin):
    list_display = ("requester_id", "erased_by_name", "erased_at")
    readonly_fields = ("requester_id", "erased_by", "erased_by_name", "erased_at", "counts")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the audit trail of erasures is kept


@admin.register(Identity)
class IdentityAdmin(admin.ModelAdmin):
    list_display = ("__str__", "kind", "requester", "display_name", "followers", "verified", "confirmed_at",
                    "is_primary", "added_by")
    list_filter = ("kind", "verified", "is_primary")
    search_fields = ("value", "handle", "display_name", "requester__name")
    autocomplete_fields = ("requester",)
    readonly_fields = ("added_by",)


class TicketAdminForm(forms.ModelForm):
    """The ticket's change form, safe on a page left open: each property posts back the
    value the page was drawn with, only what the admin changed is saved (through
    update_ticket, so it is logged), and a field someone changed since is refused."""

    class Meta:
        model = Ticket
        fields = "__all__"  # noqa: DJ007 - the admin's own field list decides

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            for field in self.fields.values():
                field.show_hidden_initial = True

    def seen(self, name: str):
        """The value this field had when the page was drawn (a pk for related rows)."""
        field = self.fields[name]
        raw = field.hidden_widget().value_from_datadict(self.data, self.files, self.add_initial_prefix(name))
        value = field.to_python(raw)
        if name == "tags":
            return {t.name for t in value}
        return value.pk if isinstance(value, models.Model) else value

    def edit(self) -> dict:
        """update_ticket's arguments for what the admin changed on this page."""
        edit = {"fields": {}, "expected": {}, "add_tags": set(), "remove_tags": set()}
        for name in self.changed_data:
            try:
                seen = self.seen(name)
            except ValidationError:
                seen = None  # the value shown no longer exists: nothing to compare with
            if name == "tags":
                wanted = {t.name for t in self.cleaned_data["tags"]}
                edit["add_tags"], edit["remove_tags"] = wanted - (seen or set()), (seen or set()) - wanted
                continue
            edit["fields"][name] = self.cleaned_data[name]
            edit["expected"][Ticket._meta.get_field(name).attname] = seen
        return edit

    def clean(self):
        data = super().clean()
        if self.instance.pk and not self.errors:
            # self.instance is still the ticket as stored (the form's values go in after clean).
            edit = self.edit()
            wanted = {Ticket._meta.get_field(n).attname: getattr(v, "pk", v) for n, v in edit["fields"].items()}
            for conflict in find_conflicts(self.instance, edit["expected"], wanted):
                self.add_error(conflict.field.removesuffix("_id"), conflict.describe())
            status = edit["fields"].get("status")
            if self.instance.status == Ticket.Status.CLOSED and status not in (None, Ticket.Status.CLOSED):
                self.add_error("status", "A closed ticket cannot be reopened; open a follow-up instead.")
        return data


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    form = TicketAdminForm
    list_display = ("id", "subject", "status", "priority", "channel", "requester", "assignee", "group", "updated_at")
    # Created-at as a filter (fixed ranges, no query) rather than a date_hierarchy, whose
    # year links are a DISTINCT over every ticket's date: 150 ms at 100k tickets, 1.5 s at 1M.
    list_filter = ("status", "priority", "channel", "group", "assignee", "created_at")
    search_fields = ("=id", "subject", "requester__name")
    autocomplete_fields = ("requester", "assignee", "group", "tags", "follow_up_of")
    list_select_related = ("requester", "assignee", "group")
    # merged_into is set by a merge (tickets.merging), which moves the comments along; a
    # select of every ticket would also make this page unusable at a million tickets.
    readonly_fields = ("comment_count", "created_at", "updated_at", "solved_at", "merged_into")
    # Comments come in through add_comment only (the cap and the lifecycle depend on it).
    # No exact COUNT of a million tickets, neither "of N total" nor the list's own count.
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    # 50 rows a page, as the queue: each admin row (requester, assignee, group, links) costs
    # about 1 ms to render, and a search at 1M tickets spends its time finding the matches.
    list_per_page = 50

    def get_search_results(self, request, queryset, search_term):
        """The queue's search (full-text on subjects and messages, people by trigram), at most
        ADMIN_SEARCH_CAP tickets, newest first: `search_fields` (icontains) is SQLite's."""
        if connection.vendor != "postgresql" or not search_term.strip():
            return super().get_search_results(request, queryset, search_term)
        ids = search.find(queryset.order_by("-updated_at", "-id"), search_term, limit=ADMIN_SEARCH_CAP)
        # One array parameter, not `pk__in`'s 1,000 (prepared for the count and the page each).
        return (queryset.filter(search.id_among(ids)) if ids else queryset.none()), False

    def save_model(self, request, obj, form, change):
        if not change:
            super().save_model(request, obj, form, change)
            return
        edit = form.edit()
        fields = edit["fields"]
        # Properties go through update_ticket (row lock, changed fields only, event log);
        # the links it does not know (requester, follow-up of) are written alone.
        links = {name: fields.pop(name) for name in list(fields) if name not in UPDATE_TICKET_FIELDS}
        checked = {_attname(name) for name in fields}
        ticket = Ticket.objects.get(pk=obj.pk)
        try:
            with transaction.atomic():
                update_ticket(
                    ticket,
                    actor=request.user,
                    expected={k: v for k, v in edit["expected"].items() if k in checked},
                    add_tags=edit["add_tags"],
                    remove_tags=edit["remove_tags"],
                    **fields,
                )
                if links:
                    for name, value in links.items():
                        setattr(ticket, name, value)
                    ticket.save(update_fields=[*links, "updated_at"])
        except (EditConflict, ValueError) as exc:
            # Someone saved between the form's checks and this save: theirs stands.
            messages.error(request, f"Ticket #{obj.pk} was not changed: {exc}")
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        if change:
            # The tags were changed by save_model as the admin's additions and removals; the
            # form's own save would replace them with the page's list.
            form.cleaned_data.pop("tags", None)
        super().save_related(request, form, formsets, change)


# The admin's ticket search lists at most this many matches (newest first), as the queue does.
ADMIN_SEARCH_CAP = 1000

UPDATE_TICKET_FIELDS = {"subject", "status", "priority", "assignee", "group", "channel", "x_account"}


def _attname(name: str) -> str:
    return Ticket._meta.get_field(name).attname


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ("id", "ticket", "author_name", "is_public", "channel", "delivery", "created_at")
    list_filter = ("is_public", "channel", "delivery", "external_source")
    search_fields = ("=ticket__id", "external_id", "body")  # SQLite's; PostgreSQL: get_search_results
    autocomplete_fields = ("ticket", "author_user", "author_requester")
    list_select_related = ("ticket", "author_user", "author_requester")
    readonly_fields = ("created_at",)
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    # Newest first by primary key: the model's (created_at, id) order has no index of its
    # own, and sorting millions of comments to show 100 took seconds.
    ordering = ("-id",)

    def get_search_results(self, request, queryset, search_term):
        """Words through the full-text index; a number is also a ticket number or an external
        (tweet, DM) id, an address-like text a Message-ID. `search_fields` is SQLite's."""
        text = search_term.strip()
        if connection.vendor != "postgresql" or not text:
            return super().get_search_results(request, queryset, search_term)
        match = Q(search_vector=SearchQuery(text, search_type="websearch", config=settings.SEARCH_LANGUAGE))
        # external_source first, as in the unique index that serves this lookup.
        by_external_id = Q(external_source__in=Comment.Source.values, external_id=text)
        # Tweet and DM ids are digits (19 of them: too long for a ticket number).
        if text.isdigit() or "@" in text or "<" in text:
            match |= by_external_id
        if text.isdigit() and len(text) < 18:
            match |= Q(ticket_id=int(text))
        return queryset.filter(match), False

    def has_add_permission(self, request) -> bool:
        # A comment created here would skip add_comment: no cap, no count, no status change.
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """What an intake brought in is a record: looked up here, never written by hand (received
    email with its files on disk, events X pushed)."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(TicketEvent)
class TicketEventAdmin(ReadOnlyAdmin):
    """The event log is a record of what happened: looked up here, never edited or deleted."""

    list_display = ("created_at", "ticket", "field", "old_label", "new_label", "actor_kind", "actor_name")
    list_filter = ("actor_kind", "field", "created_at")
    search_fields = ("=ticket__id", "actor_name")
    autocomplete_fields = ("ticket", "actor_user", "actor_requester")
    list_select_related = ("ticket",)
    # No date_hierarchy: its year links are a DISTINCT over every event (the created_at
    # filter above covers the common ranges without a query).
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(InboundEmail)
class InboundEmailAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "from_address", "subject", "outcome", "ticket", "message_id")
    list_filter = ("outcome", "received_at")
    search_fields = ("message_id", "from_address", "subject", "=ticket__id")
    autocomplete_fields = ("ticket", "comment")
    list_select_related = ("ticket",)
    date_hierarchy = "received_at"
    show_full_result_count = False
    # The raw file's own link would point into MEDIA_URL, which is not served (requesters'
    # files must not be public); the download goes through the permission-checked view.
    fields = (
        "message_id", "from_address", "subject", "outcome", "note", "attempts", "ticket", "comment", "received_at",
        "original",
    )

    @admin.display(description="Raw message")
    def original(self, obj: InboundEmail) -> str:
        if obj.comment_id is None:
            # Quarantined, dropped, a bounce kept aside: only admins may download it, here.
            # (Quarantined messages are retried from the email quarantine page, mail:quarantine.)
            return format_html('<a href="{}">Download .eml</a>', reverse("mail:raw", args=[obj.pk]))
        return format_html('<a href="{}">Download .eml</a>', reverse("mail:original", args=[obj.comment_id]))


@admin.register(EmailAttachment)
class EmailAttachmentAdmin(ReadOnlyAdmin):
    list_display = ("filename", "content_type", "size", "comment")
    list_filter = ("content_type",)
    search_fields = ("filename", "=comment__ticket__id")
    autocomplete_fields = ("comment",)
    list_select_related = ("comment",)
    show_full_result_count = False
    fields = ("filename", "content_type", "size", "comment", "download")

    @admin.display(description="File")
    def download(self, obj: EmailAttachment) -> str:
        return format_html('<a href="{}">Download</a>', reverse("mail:attachment", args=[obj.pk]))


@admin.register(OutgoingEmail)
class OutgoingEmailAdmin(ReadOnlyAdmin):
    """The email outbox, to look up what was sent when (retry is on the ticket)."""

    list_display = ("comment", "state", "outcome_unknown", "attempts", "last_attempt_at", "sent_at", "error")
    list_filter = ("state", "outcome_unknown")
    list_select_related = ("comment",)
    show_full_result_count = False


@admin.register(OutgoingNotification)
class OutgoingNotificationAdmin(ReadOnlyAdmin):
    list_display = ("subject", "state", "attempts", "last_attempt_at", "sent_at", "error")
    list_filter = ("state",)
    search_fields = ("subject", "message_id")
    show_full_result_count = False


@admin.register(EmailRequest)
class EmailRequestAdmin(ReadOnlyAdmin):
    """Links that asked a requester for an email address: who asked, and whether it was used."""

    list_display = ("created_at", "ticket", "requester", "created_by", "used_at")
    search_fields = ("=ticket__id", "requester__name")
    list_select_related = ("ticket", "requester", "created_by")
    show_full_result_count = False


@admin.register(EmailConfirmation)
class EmailConfirmationAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "address", "request", "confirmed_at")
    search_fields = ("address", "=request__ticket__id")
    list_select_related = ("request",)
    show_full_result_count = False
