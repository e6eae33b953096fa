"""Shared macros are managed by admins here; admins also see agents' personal ones."""

from __future__ import annotations

from django.contrib import admin

from ..admin_access import AdminsOnly
from .forms import MacroForm
from .models import Macro


class SharedFilter(admin.SimpleListFilter):
    title = "shared"
    parameter_name = "shared"

    def lookups(self, request, model_admin):
        return [("yes", "Shared"), ("no", "Personal")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(owner__isnull=True)
        if self.value() == "no":
            return queryset.filter(owner__isnull=False)
        return queryset


@admin.register(Macro)
class MacroAdmin(AdminsOnly, admin.ModelAdmin):
    form = MacroForm
    list_display = ["title", "owner", "active", "usage_count", "last_used_at", "updated_at"]
    list_filter = ["active", SharedFilter]
    search_fields = ["title", "body"]
    autocomplete_fields = ["owner"]
    readonly_fields = ["usage_count", "last_used_at"]
    fieldsets = [
        (None, {"fields": ["title", "body", "owner", "active"]}),
        ("Actions, applied when the reply is submitted",
         {"fields": ["set_status", "set_priority", "set_group", "set_assignee", "add_tags", "remove_tags"]}),
        ("Usage", {"fields": ["usage_count", "last_used_at"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("owner")

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        form.save_actions(form.instance)
