"""Where admins set up automations: the trigger's condition and action rows, plus time
conditions, and a dry run."""

from __future__ import annotations

from django.contrib import admin

from ..admin_access import AdminsOnly
from ..conditions import AUTOMATION
from ..forms import (
    AnyAutomationConditionFormSet,
    AutomationActionForm,
    AutomationActionFormSet,
    AutomationConditionForm,
    AutomationConditionFormSet,
)
from ..rule_admin import RuleAdmin
from .dry_run import dry_run
from .models import Automation, AutomationAction, AutomationCondition, AutomationFiring


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
class AutomationAdmin(RuleAdmin):
    rules = AUTOMATION
    dry_run = staticmethod(dry_run)
    inlines = [AllConditionInline, AnyConditionInline, ActionInline]


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
