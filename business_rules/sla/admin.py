"""Where admins set up SLA policies (conditions, targets per priority) and the business
hours they count in."""

from __future__ import annotations

from django.contrib import admin

from ..admin_access import AdminsOnly
from ..conditions import SLA
from ..forms import AnySlaConditionFormSet, SlaConditionForm, SlaConditionFormSet, admin_schema
from .models import Holiday, Schedule, ScheduleInterval, SlaPolicy, SlaPolicyCondition, SlaTarget


class AllConditionInline(AdminsOnly, admin.TabularInline):
    model = SlaPolicyCondition
    form = SlaConditionForm
    formset = SlaConditionFormSet
    fields = ["field", "operator", "value", "position"]
    extra = 1
    verbose_name = "condition that must ALL hold"
    verbose_name_plural = "Conditions: meet ALL of these (none: every ticket)"


class AnyConditionInline(AllConditionInline):
    formset = AnySlaConditionFormSet
    extra = 0
    verbose_name = "condition of which ANY must hold"
    verbose_name_plural = "Conditions: meet ANY of these"


class TargetInline(AdminsOnly, admin.TabularInline):
    model = SlaTarget
    fields = ["priority", "first_reply", "next_reply", "periodic_update", "requester_wait", "resolution"]
    extra = 4
    max_num = 4
    verbose_name = "target (minutes)"
    verbose_name_plural = "Targets per priority, in minutes (empty: not measured)"


@admin.register(SlaPolicy)
class SlaPolicyAdmin(AdminsOnly, admin.ModelAdmin):
    list_display = ["title", "active", "position", "schedule"]
    list_display_links = ["title"]
    list_editable = ["active", "position"]
    list_filter = ["active"]
    list_select_related = ["schedule"]
    search_fields = ["title", "description"]
    ordering = ["position", "id"]
    fields = ["title", "description", "active", "position", "schedule"]
    inlines = [AllConditionInline, AnyConditionInline, TargetInline]

    class Media:
        js = ["business_rules/trigger_admin.js"]

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "rules_schema": admin_schema(SLA)}
        return super().changeform_view(request, object_id, form_url, extra_context)


class IntervalInline(AdminsOnly, admin.TabularInline):
    model = ScheduleInterval
    extra = 5


class HolidayInline(AdminsOnly, admin.TabularInline):
    model = Holiday
    extra = 1


@admin.register(Schedule)
class ScheduleAdmin(AdminsOnly, admin.ModelAdmin):
    list_display = ["name", "time_zone"]
    search_fields = ["name"]
    inlines = [IntervalInline, HolidayInline]
