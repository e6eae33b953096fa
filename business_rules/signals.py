"""Keep the compiled-rule caches honest: any change to a rule row bumps its family's version."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save

from .cache import clear_local
from .models import NoiseRule, RulesVersion, Trigger, TriggerAction, TriggerCondition

TRIGGERS = "triggers"
NOISE = "noise"

FAMILIES = {
    Trigger: TRIGGERS,
    TriggerCondition: TRIGGERS,
    TriggerAction: TRIGGERS,
    NoiseRule: NOISE,
}


def rules_changed(sender, **kwargs) -> None:
    family = FAMILIES[sender]
    RulesVersion.bump(family)
    clear_local(family)


def connect() -> None:
    for model in FAMILIES:
        post_save.connect(rules_changed, sender=model, dispatch_uid=f"rules_changed_save_{model.__name__}")
        post_delete.connect(rules_changed, sender=model, dispatch_uid=f"rules_changed_delete_{model.__name__}")
