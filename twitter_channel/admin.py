"""Django admin for the X channel's rows. Tokens are never shown: they are left out of
every form and list here (the accounts page manages connections)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse

from tickets.admin import ReadOnlyAdmin
from twitter_channel.compliance.summary import compliance_summary
from twitter_channel.intake.deletions import record_deletion
from twitter_channel.intake.redaction import DM_KINDS
from twitter_channel.models import (
    ActivityEvent,
    ComplianceJobRun,
    IncomingItem,
    RequesterProfileSubscription,
    StreamCursor,
    WebhookHealth,
    XAccount,
    XDeletion,
)


class StreamCursorInline(admin.TabularInline):
    model = StreamCursor
    extra = 0
    can_delete = False
    fields = ("stream", "since_id", "last_seen_id", "last_success_at", "next_poll_at", "rate_remaining",
              "rate_limit", "rate_reset_at", "consecutive_failures", "last_error")
    readonly_fields = fields


@admin.register(XAccount)
class XAccountAdmin(admin.ModelAdmin):
    list_display = ("username", "user_id", "is_active", "needs_reconnect", "capture_mentions", "capture_dms",
                    "capture_likes", "default_group", "last_error_at")
    list_filter = ("is_active", "needs_reconnect")
    search_fields = ("username", "user_id", "display_name")
    autocomplete_fields = ("default_group",)
    exclude = ("access_token", "refresh_token")
    readonly_fields = ("user_id", "token_expires_at", "scopes", "last_error", "last_error_at")
    inlines = [StreamCursorInline]


@admin.register(IncomingItem)
class IncomingItemAdmin(admin.ModelAdmin):
    list_display = ("x_id", "kind", "state", "account", "author_handle", "ticket", "fetched_at")
    list_filter = ("state", "kind", "account")
    search_fields = ("x_id", "author_handle", "author_x_id", "text", "conversation_key")
    raw_id_fields = ("ticket", "comment")
    list_select_related = ("account", "ticket")
    readonly_fields = ("raw",)
    actions = ["redact_reported_deleted_dms"]

    def has_compliance_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_admin

    @admin.action(description="Redact as deleted on X (reported by its author)", permissions=["compliance"])
    def redact_reported_deleted_dms(self, request, queryset):
        """X reports deleted posts (post.delete, the batch job) but never a deleted DM: when
        its author tells us, an admin redacts it here, as X's deletions are redacted."""
        dms = queryset.filter(kind__in=DM_KINDS)
        if request.POST.get("confirmed") != "yes":
            return TemplateResponse(request, "admin/twitter_channel/incomingitem/redact_confirmation.html", {
                **self.admin_site.each_context(request), "title": "Redact deleted DMs", "items": dms,
                "skipped": queryset.count() - dms.count(),
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME, "opts": self.model._meta,
            })
        ids = sorted(set(dms.values_list("x_id", flat=True)))
        for x_id in ids:
            record_deletion(x_id, source=XDeletion.Source.REPORTED, dm=True)
        self.message_user(request, f"Redacted {len(ids)} DM(s) reported deleted on X. Posts are left to what X "
                                   "reports.", messages.SUCCESS)
        return None


@admin.register(ActivityEvent)
class ActivityEventAdmin(ReadOnlyAdmin):
    list_display = ("event_id", "event_type", "source", "state", "account", "items_stored", "received_at")
    list_filter = ("state", "source", "event_type", "account")
    search_fields = ("event_id", "for_user_id", "detail")
    list_select_related = ("account",)


@admin.register(RequesterProfileSubscription)
class RequesterProfileSubscriptionAdmin(ReadOnlyAdmin):
    """The profile.update subscriptions held for requesters with open tickets (kept by beat)."""

    list_display = ("x_user_id", "event_type", "subscription_id", "webhook_id", "created_at")
    list_filter = ("event_type",)
    search_fields = ("x_user_id", "subscription_id")


@admin.register(WebhookHealth)
class WebhookHealthAdmin(ReadOnlyAdmin):
    list_display = ("url", "checked_at", "last_ok_at", "down_since", "last_error", "replay_job")


@admin.register(XDeletion)
class XDeletionAdmin(ReadOnlyAdmin):
    """What compliance changed: the page counts deletions per day and shows the batch jobs'
    latest runs and failures above the list."""

    list_display = ("x_id", "is_dm", "source", "deleted_at", "recorded_at", "items_redacted")
    list_filter = ("source", "is_dm")
    search_fields = ("x_id",)
    date_hierarchy = "recorded_at"
    change_list_template = "admin/twitter_channel/xdeletion/change_list.html"

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {**(extra_context or {}), **compliance_summary()})


@admin.register(ComplianceJobRun)
class ComplianceJobRunAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "type", "status", "ids_uploaded", "changes", "applied", "attempts", "error")
    list_filter = ("status", "type")
