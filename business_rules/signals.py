"""Keep the compiled-rule caches honest: any change to a rule row bumps its family's version."""

from __future__ import annotations

from functools import partial

from django.db import transaction
from django.db.models.signals import post_delete, post_save

from .cache import clear_local
from .models import (
    Automation,
    AutomationAction,
    AutomationCondition,
    Holiday,
    NoiseRule,
    RulesVersion,
    Schedule,
    ScheduleInterval,
    SlaPolicy,
    SlaPolicyCondition,
    SlaTarget,
    Trigger,
    TriggerAction,
    TriggerCondition,
)
from .tasks import recompute_sla_clocks

TRIGGERS = "triggers"
NOISE = "noise"
AUTOMATIONS = "automations"
SLA = "sla"

FAMILIES = {
    Trigger: TRIGGERS,
    TriggerCondition: TRIGGERS,
    TriggerAction: TRIGGERS,
    NoiseRule: NOISE,
    Automation: AUTOMATIONS,
    AutomationCondition: AUTOMATIONS,
    AutomationAction: AUTOMATIONS,
    SlaPolicy: SLA,
    SlaPolicyCondition: SLA,
    SlaTarget: SLA,
    Schedule: SLA,
    ScheduleInterval: SLA,
    Holiday: SLA,
}


def rules_changed(sender, **kwargs) -> None:
    family = FAMILIES[sender]
    stamp = RulesVersion.bump(family)
    clear_local(family)
    if family == SLA:
        # The admin saves a policy row by row (policy, conditions, targets): every row
        # enqueues, but only the task carrying the last stamp finds it current and runs.
        transaction.on_commit(partial(recompute_sla_clocks.delay, stamp))


def connect() -> None:
    for model in FAMILIES:
        post_save.connect(rules_changed, sender=model, dispatch_uid=f"rules_changed_save_{model.__name__}")
        post_delete.connect(rules_changed, sender=model, dispatch_uid=f"rules_changed_delete_{model.__name__}")
