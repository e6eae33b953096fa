"""Moving triggers up and down the firing order."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from .cache import clear_local
from .models import RulesVersion, Trigger


@transaction.atomic
def move(selected: Iterable[int], *, up: bool) -> None:
    """Move each selected trigger one place up (or down), past its unselected neighbour,
    and renumber every trigger 1, 2, 3… so positions stay distinct."""
    ordered = list(Trigger.objects.select_for_update().order_by("position", "id"))
    chosen = set(selected)
    indexes = range(1, len(ordered)) if up else range(len(ordered) - 2, -1, -1)
    for i in indexes:
        j = i - 1 if up else i + 1
        if ordered[i].pk in chosen and ordered[j].pk not in chosen:
            ordered[i], ordered[j] = ordered[j], ordered[i]
    renumber(ordered)


def renumber(ordered: list[Trigger]) -> None:
    changed = []
    for position, trigger in enumerate(ordered, start=1):
        if trigger.position != position:
            trigger.position = position
            changed.append(trigger)
    if changed:
        # bulk_update sends no post_save, so tell the caches here.
        Trigger.objects.bulk_update(changed, ["position"])
        RulesVersion.bump("triggers")
        clear_local("triggers")
