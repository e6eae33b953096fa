"""Three example triggers, shipped inactive: admins switch on the ones they want."""

from django.db import migrations

EXAMPLES = [
    {
        "title": "VIP: X DM from a verified account",
        "description": "Example. A direct message on X from a verified account gets High priority and the vip tag.",
        "conditions": [("update_type", "is", "created"), ("channel", "is", "x_dm"), ("requester_verified", "is", "true")],
        "actions": [("set_priority", "3", "", ""), ("add_tags", "vip", "", "")],
    },
    {
        "title": "New X mention: tag and route to Social",
        "description": "Example. New tickets from public X mentions get the x-new tag and go to the Social group.",
        "conditions": [("update_type", "is", "created"), ("channel", "is", "x")],
        "actions": [("add_tags", "x-new", "", ""), ("set_group", "<social>", "", "")],
    },
    {
        "title": "Requester replied to a solved ticket: notify the assignee",
        "description": "Example. When the requester writes again on a solved ticket, its assignee hears of it.",
        "conditions": [
            ("update_type", "is", "updated"),
            ("updated_by", "is", "requester"),
            ("status", "changed_from", "solved"),
        ],
        "actions": [
            (
                "email_assignee",
                "",
                "Ticket #{{ticket.id}} reopened by {{requester.name}}",
                "{{requester.name}} replied to a solved ticket:\n\n{{comment.body}}\n\n{{ticket.url}}",
            )
        ],
    },
]


def add_examples(apps, schema_editor):
    Trigger = apps.get_model("business_rules", "Trigger")
    Group = apps.get_model("tickets", "Group")
    social, _ = Group.objects.get_or_create(name="Social")
    start = (Trigger.objects.order_by("-position").values_list("position", flat=True).first() or 0) + 1
    for offset, example in enumerate(EXAMPLES):
        trigger = Trigger.objects.create(
            title=example["title"], description=example["description"], active=False, position=start + offset
        )
        for i, (field, operator, value) in enumerate(example["conditions"]):
            trigger.conditions.create(kind="all", field=field, operator=operator, value=value, position=i)
        for i, (action, value, subject, body) in enumerate(example["actions"]):
            value = str(social.pk) if value == "<social>" else value
            trigger.actions.create(action=action, value=value, subject=subject, body=body, position=i)


def remove_examples(apps, schema_editor):
    Trigger = apps.get_model("business_rules", "Trigger")
    Trigger.objects.filter(title__in=[e["title"] for e in EXAMPLES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("business_rules", "0001_rules"),
        ("tickets", "0001_initial"),
    ]

    operations = [migrations.RunPython(add_examples, remove_examples)]
