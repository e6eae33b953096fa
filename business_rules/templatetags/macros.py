"""The reply box's macros after a refused submit: the page comes back with the agent's text,
and with the macros they had applied, so that submitting again still applies them."""

from __future__ import annotations

from dataclasses import dataclass

from django import template

from ..macros.applying import MACRO_INPUT, SEEN_INPUT, MacroPlan, plans_for
from ..macros.models import Macro

register = template.Library()


@dataclass(frozen=True)
class PendingMacro:
    plan: MacroPlan
    seen_input: str
    seen: str  # as posted: still the values of the first preview


@register.simple_tag(takes_context=True)
def pending_macros(context) -> list[PendingMacro]:
    request = context.get("request")
    ticket = context.get("ticket")
    if request is None or ticket is None or request.method != "POST":
        return []
    ids = list(dict.fromkeys(int(v) for v in request.POST.getlist(MACRO_INPUT) if v.isdigit()))
    if not ids:
        return []
    found = {m.pk: m for m in Macro.objects.usable_by(request.user).filter(pk__in=ids).prefetch_related("actions")}
    macros = [found[pk] for pk in ids if pk in found]
    return [
        PendingMacro(plan, SEEN_INPUT.format(plan.macro.pk), request.POST.get(SEEN_INPUT.format(plan.macro.pk), "{}"))
        for plan in plans_for(ticket, request.user, macros)
    ]
