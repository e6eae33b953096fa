"""Building macros in tests the way the admin and the agents' page do: through `MacroForm`."""

from __future__ import annotations

from business_rules.macros.forms import MacroForm
from business_rules.models import Macro


def make_macro(title: str = "Macro", body: str = "", *, owner=None, active: bool = True, **actions) -> Macro:
    """`actions`: the form's fields (set_status="pending", add_tags="refund", set_group=str(pk)...)."""
    form = MacroForm(
        {"title": title, "body": body, "active": active, **actions},
        instance=Macro(owner=owner),
        user=owner,
    )
    assert form.is_valid(), form.errors
    macro = form.save()
    form.save_actions(macro)
    return macro
