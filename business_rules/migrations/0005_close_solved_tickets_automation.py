"""Solved tickets used to close after SOLVED_TO_CLOSED_DAYS (4) by a fixed beat task; that
rule is now an automation admins can see, change or switch off."""

from django.db import migrations

TITLE = "Close solved tickets after 4 days"


def create(apps, schema_editor):
    Automation = apps.get_model("business_rules", "Automation")
    automation = Automation.objects.create(
        title=TITLE,
        description="Shipped by default: what the helpdesk did before automations existed.",
        position=1000,
    )
    automation.conditions.create(kind="all", field="status", operator="is", value="solved", position=0)
    automation.conditions.create(
        kind="all", field="hours_since_status_changed", operator="greater_than", value="96", position=1
    )
    automation.actions.create(action="set_status", value="closed", position=0)


def remove(apps, schema_editor):
    apps.get_model("business_rules", "Automation").objects.filter(title=TITLE).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("business_rules", "0004_automations_and_sla"),
        ("tickets", "0014_fill_ticket_times"),
    ]

    operations = [migrations.RunPython(create, remove)]
