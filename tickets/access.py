"""Who may see which tickets. Every ticket view starts from `visible_tickets(user)`, so a
ticket outside an agent's reach is a 404, never a leak."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from .models import Ticket, User


def visible_tickets(user: User) -> QuerySet[Ticket]:
    if not user.is_authenticated:
        return Ticket.objects.none()
    if not user.is_restricted:
        return Ticket.objects.all()
    allowed = Q(pk__in=[])
    group_ids = list(user.allowed_groups.values_list("pk", flat=True))
    if group_ids:
        allowed |= Q(group_id__in=group_ids)
    if user.allowed_channels:
        allowed |= Q(channel__in=user.allowed_channels)
    return Ticket.objects.filter(allowed)
