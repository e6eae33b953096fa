"""Who may see and change business rules in the admin."""

from __future__ import annotations

from django.http import HttpRequest


class AdminsOnly:
    """Business rules belong to helpdesk admins (role), not to whoever has staff status."""

    def _allowed(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_staff and request.user.is_admin

    def has_module_permission(self, request):
        return self._allowed(request)

    def has_view_permission(self, request, obj=None):
        return self._allowed(request)

    def has_add_permission(self, request, obj=None):
        return self._allowed(request)

    def has_change_permission(self, request, obj=None):
        return self._allowed(request)

    def has_delete_permission(self, request, obj=None):
        return self._allowed(request)
