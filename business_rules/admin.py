"""Where admins set up triggers and noise rules."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import reverse

# Automations and SLA policies keep their admin in their own folders.
from .admin_access import AdminsOnly
from .automations import admin as automations_admin  # noqa: F401
from .dry_run import dry_run
from .forms import ActionForm, ActionFormSet, AnyConditionFormSet, ConditionForm, ConditionFormSet
from .macros import admin as macros_admin  # noqa: F401
from .models import NoiseRule, Trigger, TriggerAction, TriggerCondition, TriggerFiring
from .positions import move
from .rule_admin import RuleAdmin
from .sla import admin as sla_admin  # noqa: F401


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
class TriggerAdmin(RuleAdmin):
    dry_run = staticmethod(dry_run)
    inlines = [AllConditionInline, AnyConditionInline, ActionInline]
    actions = ["move_up", "move_down", "dry_run_selected"]

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
