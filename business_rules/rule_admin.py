"""What the admin pages of triggers and automations share: a list of rules in position order
with their rows in words, the change form's field schema, and a dry run page."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from .admin_access import AdminsOnly
from .conditions import TRIGGER
from .forms import admin_schema
from .summaries import actions_summary, conditions_summary

DRY_RUN_DEFAULT = 50
DRY_RUN_MAX = 500


class RuleAdmin(AdminsOnly, admin.ModelAdmin):
    rules = TRIGGER  # the rule family whose fields and operators the change form offers
    dry_run: Callable  # staticmethod((rule, limit) -> rows), set by each rule family

    list_display = ["title", "active", "position", "conditions_in_words", "actions_in_words", "dry_run_link"]
    list_display_links = ["title"]
    list_editable = ["active", "position"]
    list_filter = ["active"]
    search_fields = ["title", "description"]
    ordering = ["position", "id"]
    fields = ["title", "description", "active", "position"]

    class Media:
        js = ["business_rules/trigger_admin.js"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("conditions", "actions")

    @admin.display(description="Conditions")
    def conditions_in_words(self, obj) -> str:
        return conditions_summary(obj.conditions.all())

    @admin.display(description="Actions")
    def actions_in_words(self, obj) -> str:
        return actions_summary(obj.actions.all())

    @property
    def dry_run_url_name(self) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_dry_run"

    @admin.display(description="Dry run")
    def dry_run_link(self, obj) -> str:
        return format_html('<a href="{}">Dry run</a>', reverse(f"admin:{self.dry_run_url_name}", args=[obj.pk]))

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "rules_schema": admin_schema(self.rules)}
        return super().changeform_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        dry_run_page = path("<int:pk>/dry-run/", self.admin_site.admin_view(self.dry_run_view),
                            name=self.dry_run_url_name)
        return [dry_run_page, *super().get_urls()]

    def dry_run_view(self, request, pk: int):
        if not self.has_view_permission(request):
            raise PermissionDenied
        rule = get_object_or_404(self.model, pk=pk)
        try:
            limit = min(max(int(request.GET.get("n", DRY_RUN_DEFAULT)), 1), DRY_RUN_MAX)
        except ValueError:
            limit = DRY_RUN_DEFAULT
        rows = self.dry_run(rule, limit)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Dry run: {rule.title}",
            self.opts.model_name: rule,  # "trigger" or "automation" in its template
            "rows": rows,
            "matched": [r for r in rows if r.matched],
            "limit": limit,
        }
        return TemplateResponse(request, f"admin/{self.opts.app_label}/{self.opts.model_name}/dry_run.html", context)
