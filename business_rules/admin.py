"""Where admins set up triggers and noise rules."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

# Automations and SLA policies keep their admin in their own folders.
from .admin_access import AdminsOnly
from .automations import admin as automations_admin  # noqa: F401
from .dry_run import dry_run
from .forms import ActionForm, ActionFormSet, AnyConditionFormSet, ConditionForm, ConditionFormSet, admin_schema
from .models import NoiseRule, Trigger, TriggerAction, TriggerCondition, TriggerFiring
from .positions import move
from .sla import admin as sla_admin  # noqa: F401
from .summaries import actions_summary, conditions_summary

DRY_RUN_DEFAULT = 50
DRY_RUN_MAX = 500


class AllConditionInline(AdminsOnly, admin.TabularInline):
    model = TriggerCondition
    form = ConditionForm
    formset = ConditionFormSet
    fields = ["field", "operator", "value", "position"]
    extra = 1
    verbose_name = "condition that must ALL hold"
    verbose_name_plural = "Conditions: meet ALL of these"


class AnyConditionInline(AllConditionInline):
    formset = AnyConditionFormSet
    extra = 0
    verbose_name = "condition of which ANY must hold"
    verbose_name_plural = "Conditions: meet ANY of these"


class ActionInline(AdminsOnly, admin.StackedInline):
    model = TriggerAction
    form = ActionForm
    formset = ActionFormSet
    fields = [("action", "value", "position"), "subject", "body"]
    extra = 1


@admin.register(Trigger)
class TriggerAdmin(AdminsOnly, admin.ModelAdmin):
    list_display = ["title", "active", "position", "conditions_in_words", "actions_in_words", "dry_run_link"]
    list_display_links = ["title"]
    list_editable = ["active", "position"]
    list_filter = ["active"]
    search_fields = ["title", "description"]
    ordering = ["position", "id"]
    inlines = [AllConditionInline, AnyConditionInline, ActionInline]
    actions = ["move_up", "move_down", "dry_run_selected"]
    fields = ["title", "description", "active", "position"]

    class Media:
        js = ["business_rules/trigger_admin.js"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("conditions", "actions")

    @admin.display(description="Conditions")
    def conditions_in_words(self, obj: Trigger) -> str:
        return conditions_summary(obj.conditions.all())

    @admin.display(description="Actions")
    def actions_in_words(self, obj: Trigger) -> str:
        return actions_summary(obj.actions.all())

    @admin.display(description="Dry run")
    def dry_run_link(self, obj: Trigger) -> str:
        return format_html('<a href="{}">Dry run</a>', reverse("admin:business_rules_trigger_dry_run", args=[obj.pk]))

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "rules_schema": admin_schema()}
        return super().changeform_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        return [
            path(
                "<int:pk>/dry-run/",
                self.admin_site.admin_view(self.dry_run_view),
                name="business_rules_trigger_dry_run",
            ),
            *super().get_urls(),
        ]

    def dry_run_view(self, request, pk: int):
        if not self.has_view_permission(request):
            raise PermissionDenied
        trigger = get_object_or_404(Trigger, pk=pk)
        try:
            limit = min(max(int(request.GET.get("n", DRY_RUN_DEFAULT)), 1), DRY_RUN_MAX)
        except ValueError:
            limit = DRY_RUN_DEFAULT
        rows = dry_run(trigger, limit)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Dry run: {trigger.title}",
            "trigger": trigger,
            "rows": rows,
            "matched": [r for r in rows if r.matched],
            "limit": limit,
        }
        return TemplateResponse(request, "admin/business_rules/trigger/dry_run.html", context)

    @admin.action(description="Move selected triggers up")
    def move_up(self, request, queryset):
        move(queryset.values_list("pk", flat=True), up=True)

    @admin.action(description="Move selected triggers down")
    def move_down(self, request, queryset):
        move(queryset.values_list("pk", flat=True), up=False)

    @admin.action(description="Dry run the selected trigger on recent tickets")
    def dry_run_selected(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Choose exactly one trigger for a dry run.", messages.WARNING)
            return None
        return HttpResponseRedirect(reverse("admin:business_rules_trigger_dry_run", args=[queryset.get().pk]))


@admin.register(TriggerFiring)
class TriggerFiringAdmin(AdminsOnly, admin.ModelAdmin):
    list_display = ["fired_at", "trigger", "ticket", "problems"]
    list_filter = ["trigger"]
    search_fields = ["ticket__id", "trigger__title", "problems"]
    list_select_related = ["trigger", "ticket"]
    readonly_fields = ["trigger", "ticket", "fired_at", "problems"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(NoiseRule)
class NoiseRuleAdmin(AdminsOnly, admin.ModelAdmin):
    list_display = ["name", "account", "active", "position", "summary"]
    list_editable = ["active", "position"]
    list_filter = ["active", "account"]
    search_fields = ["name", "blocked_authors", "ignore_keywords", "require_keywords"]
    list_select_related = ["account"]
    ordering = ["position", "id"]
    fieldsets = [
        (None, {"fields": ["name", "account", "active", "position"]}),
        (
            "Ignore items that…",
            {
                "fields": [
                    "ignore_retweets",
                    "ignore_quotes",
                    "ignore_bare_mentions",
                    "blocked_authors",
                    "ignore_keywords",
                    "require_keywords",
                    "min_followers",
                ]
            },
        ),
    ]

    @admin.display(description="Ignores")
    def summary(self, obj: NoiseRule) -> str:
        parts = []
        if obj.ignore_retweets:
            parts.append("retweets")
        if obj.ignore_quotes:
            parts.append("quotes")
        if obj.ignore_bare_mentions:
            parts.append("bare mentions")
        if obj.blocked_authors.strip():
            parts.append("blocked authors")
        if obj.ignore_keywords.strip():
            parts.append("keywords")
        if obj.require_keywords.strip():
            parts.append("items without required keywords")
        if obj.min_followers is not None:
            parts.append(f"authors under {obj.min_followers:,} followers")
        return ", ".join(parts) or "nothing"
