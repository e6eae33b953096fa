"""Who may see which tickets. Every ticket view starts from `visible_tickets(user)`, so a
ticket outside an agent's reach is a 404, never a leak."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.db.models import Q, QuerySet
from django.http import Http404

from .models import Group, Ticket, User


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


# --- What each role may do, beyond seeing tickets ---------------------------------------
# Admin only: deleting tickets (one or in bulk), the Django admin (agents, roles, groups,
# requesters), and the X channel's account and incoming-stream pages. Agents and restricted
# agents may reply, add notes and change every ticket field of the tickets they see; a
# restricted agent may only move a ticket into one of their own groups, so they cannot
# hand a ticket to a group they could then no longer follow.


def admin_only(view):
    """A page only admins have: anonymous visitors go to the login page, agents and
    restricted agents get a 404 (for them the page does not exist)."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_admin:
            raise Http404("No such page")
        return view(request, *args, **kwargs)

    return wrapper


def can_delete_tickets(user: User) -> bool:
    return user.is_authenticated and user.is_active and user.is_admin


def assignable_groups(user: User, current: Group | None = None) -> QuerySet[Group]:
    if not user.is_restricted:
        return Group.objects.all()
    allowed = Q(pk__in=user.allowed_groups.values("pk"))
    if current is not None:
        allowed |= Q(pk=current.pk)
    return Group.objects.filter(allowed)


def can_change_requester(user: User, requester) -> bool:
    """Whether `user` may change a requester's identities (add an email address, choose the
    primary one). A restricted agent may only when every ticket of that requester is within
    their reach: an address they add would receive the replies of the others."""
    if not (user.is_authenticated and user.is_active):
        return False
    if not user.is_restricted:
        return True
    return not requester.tickets.exclude(pk__in=visible_tickets(user).values("pk")).exists()
