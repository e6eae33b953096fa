"""The Django admin: where admins manage agents, roles, groups and look things up.

Who gets in is decided by the role (User.save keeps is_staff equal to "is admin"), so an
agent or restricted agent never reaches these pages, even if someone ticked is_staff.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.urls import reverse
from django.utils.html import format_html

from .mail.models import EmailAttachment, InboundEmail, OutgoingEmail, OutgoingNotification
from .models import Comment, Group, Identity, Requester, Tag, Ticket, User


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
    fields = ("kind", "value", "handle", "display_name", "followers", "verified", "avatar_url")


@admin.register(Requester)
class RequesterAdmin(admin.ModelAdmin):
    list_display = ("name", "created_at")
    search_fields = ("name", "identities__value", "identities__handle")
    inlines = [IdentityInline]


@admin.register(Identity)
class IdentityAdmin(admin.ModelAdmin):
    list_display = ("__str__", "kind", "requester", "display_name", "followers", "verified")
    list_filter = ("kind", "verified")
    search_fields = ("value", "handle", "display_name", "requester__name")
    autocomplete_fields = ("requester",)


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = ("id", "subject", "status", "priority", "channel", "requester", "assignee", "group", "updated_at")
    list_filter = ("status", "priority", "channel", "group", "assignee")
    search_fields = ("=id", "subject", "requester__name")
    autocomplete_fields = ("requester", "assignee", "group", "tags", "follow_up_of")
    list_select_related = ("requester", "assignee", "group")
    readonly_fields = ("comment_count", "created_at", "updated_at", "solved_at")
    date_hierarchy = "created_at"
    # Comments come in through add_comment only (the cap and the lifecycle depend on it).
    show_full_result_count = False


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ("id", "ticket", "author_name", "is_public", "channel", "delivery", "created_at")
    list_filter = ("is_public", "channel", "delivery", "external_source")
    search_fields = ("=ticket__id", "external_id")
    autocomplete_fields = ("ticket", "author_user", "author_requester")
    list_select_related = ("ticket", "author_user", "author_requester")
    readonly_fields = ("created_at",)
    show_full_result_count = False

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
    fields = ("message_id", "from_address", "subject", "outcome", "ticket", "comment", "received_at", "original")

    @admin.display(description="Raw message")
    def original(self, obj: InboundEmail) -> str:
        if obj.comment_id is None:
            return "(kept on disk; no comment to download it from)"
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
