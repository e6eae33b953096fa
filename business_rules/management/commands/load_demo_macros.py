"""A few shared macros for the demo (`make demo`); kept as they are when they exist already."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from business_rules.macros.forms import MacroForm
from business_rules.models import Macro

DEMO_MACROS = [
    {"title": "Order delayed", "set_status": "pending", "add_tags": "order-delay", "set_assignee": "current_user",
     "body": "Hi {{requester.first_name}}, sorry about the wait! We're checking with our warehouse and will update "
             "you here (ticket #{{ticket.id}}). ^{{current_user.first_name}}"},
    {"title": "Move to DM", "add_tags": "dm-requested",
     "body": "Hi {{requester.first_name}}, could you send us a DM with your order number? We'll sort it out there."},
    {"title": "Solved, thanks", "set_status": "solved",
     "body": "Glad we could help, {{requester.first_name}}! ^{{current_user.first_name}}"},
]


class Command(BaseCommand):
    help = "Create the demo's shared macros (through the same form as the admin)."

    def handle(self, *args, **options) -> None:
        created = 0
        for data in DEMO_MACROS:
            if Macro.objects.filter(owner__isnull=True, title=data["title"]).exists():
                continue
            form = MacroForm({**data, "active": True}, instance=Macro())
            if not form.is_valid():
                raise ValueError(f"Demo macro {data['title']!r} is invalid: {form.errors.as_text()}")
            form.save_actions(form.save())
            created += 1
        self.stdout.write(f"{created} demo macro(s) created.")
