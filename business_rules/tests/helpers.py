"""Building triggers in tests the way the admin does: every row through the same validation."""

from __future__ import annotations

from business_rules.actions import clean_action
from business_rules.conditions import clean_condition
from business_rules.models import Trigger


def make_trigger(
    title: str = "Trigger",
    *,
    all: list[tuple[str, str, str]] = (),  # noqa: A002 - reads like the admin's "all" list
    any: list[tuple[str, str, str]] = (),  # noqa: A002
    actions: list[tuple] = (),
    position: int = 0,
    active: bool = True,
) -> Trigger:
    trigger = Trigger.objects.create(title=title, position=position, active=active)
    for kind, rows in (("all", all), ("any", any)):
        for i, (field, operator, value) in enumerate(rows):
            value = clean_condition(field, operator, value)
            trigger.conditions.create(kind=kind, field=field, operator=operator, value=value, position=i)
    for i, row in enumerate(actions):
        action, value, subject, body = (*row, "", "", "")[:4]
        value, subject, body = clean_action(action, value, subject, body)
        trigger.actions.create(action=action, value=value, subject=subject, body=body, position=i)
    return trigger


def make_automation(
    title: str = "Automation",
    *,
    all: list[tuple[str, str, str]] = (),  # noqa: A002
    any: list[tuple[str, str, str]] = (),  # noqa: A002
    actions: list[tuple] = (),
    position: int = 0,
    active: bool = True,
):
    from business_rules.conditions import AUTOMATION
    from business_rules.models import Automation

    automation = Automation.objects.create(title=title, position=position, active=active)
    for kind, rows in (("all", all), ("any", any)):
        for i, (field, operator, value) in enumerate(rows):
            value = clean_condition(field, operator, value, AUTOMATION)
            automation.conditions.create(kind=kind, field=field, operator=operator, value=value, position=i)
    for i, row in enumerate(actions):
        action, value, subject, body = (*row, "", "", "")[:4]
        value, subject, body = clean_action(action, value, subject, body)
        automation.actions.create(action=action, value=value, subject=subject, body=body, position=i)
    return automation
