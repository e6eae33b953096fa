"""Where admins set up automations: the trigger's condition and action rows, plus time
conditions, and a dry run."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from ..admin_access import AdminsOnly
from ..conditions import AUTOMATION
from ..forms import (
    AnyAutomationConditionFormSet,
    AutomationActionForm,
    AutomationActionFormSet,
    AutomationConditionForm,
    AutomationConditionFormSet,
    admin_schema,
)
from ..summaries import actions_summary, conditions_summary
from .dry_run import dry_run
from .models import Automation, AutomationAction, AutomationCondition, AutomationFiring

DRY_RUN_DEFAULT = 50
DRY_RUN_MAX = 500


class AllConditionInline(AdminsOnly, admin.TabularInline):
    model = AutomationCondition
    form = AutomationConditionForm
    formset = AutomationConditionFormSet
    fields = ["field", "operator", "value", "position"]
    extra = 1
    verbose_name = "condition that must ALL hold"
    verbose_name_plural = "Conditions: meet ALL of these (at least one time condition)"


class AnyConditionInline(AllConditionInline):
    formset = AnyAutomationConditionFormSet
    extra = 0
    verbose_name = "condition of which ANY must hold"
    verbose_name_plural = "Conditions: meet ANY of these"


class ActionInline(AdminsOnly, admin.StackedInline):
    model = AutomationAction
    form = AutomationActionForm
    formset = AutomationActionFormSet
    fields = [("action", "value", "position"), "subject", "body"]
    extra = 1


@admin.register(Automation)
class AutomationAdmin(AdminsOnly, admin.ModelAdmin):
    list_display = ["title", "active", "position", "conditions_in_words", "actions_in_words", "dry_run_link"]
    list_display_links = ["title"]
    list_editable = ["active", "position"]
    list_filter = ["active"]
    search_fields = ["title", "description"]
    ordering = ["position", "id"]
    inlines = [AllConditionInline, AnyConditionInline, ActionInline]
    fields = ["title", "description", "active", "position"]

    class Media:
        js = ["business_rules/trigger_admin.js"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("conditions", "actions")

    @admin.display(description="Conditions")
    def conditions_in_words(self, obj: Automation) -> str:
        return conditions_summary(obj.conditions.all())

    @admin.display(description="Actions")
    def actions_in_words(self, obj: Automation) -> str:
        return actions_summary(obj.actions.all())

    @admin.display(description="Dry run")
    def dry_run_link(self, obj: Automation) -> str:
        url = reverse("admin:business_rules_automation_dry_run", args=[obj.pk])
        return format_html('<a href="{}">Dry run</a>', url)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "rules_schema": admin_schema(AUTOMATION)}
        return super().changeform_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        return [
            path(
                "<int:pk>/dry-run/",
                self.admin_site.admin_view(self.dry_run_view),
                name="business_rules_automation_dry_run",
            ),
            *super().get_urls(),
        ]

    def dry_run_view(self, request, pk: int):
        if not self.has_view_permission(request):
            raise PermissionDenied
        automation = get_object_or_404(Automation, pk=pk)
        try:
            limit = min(max(int(request.GET.get("n", DRY_RUN_DEFAULT)), 1), DRY_RUN_MAX)
        except ValueError:
            limit = DRY_RUN_DEFAULT
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Dry run: {automation.title}",
            "automation": automation,
            "rows": dry_run(automation, limit),
            "limit": limit,
        }
        return TemplateResponse(request, "admin/business_rules/automation/dry_run.html", context)


@admin.register(AutomationFiring)
class AutomationFiringAdmin(AdminsOnly, admin.ModelAdmin):
    list_display = ["fired_at", "automation", "ticket", "anchor", "problems"]
    list_filter = ["automation"]
    search_fields = ["ticket__id", "automation__title", "problems"]
    list_select_related = ["automation", "ticket"]
    readonly_fields = ["automation", "ticket", "anchor", "fired_at", "problems"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False
