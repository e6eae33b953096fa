"""Deliveries once "pending" are "queued" (a ticket status word no longer names a delivery
state), and email replies still waiting get their outbox row, so the sweeper sends them."""

from django.db import migrations


def forwards(apps, schema_editor):
    Comment = apps.get_model("tickets", "Comment")
    OutgoingEmail = apps.get_model("tickets", "OutgoingEmail")
    waiting = Comment.objects.filter(delivery="pending", external_source="email", outgoing_email__isnull=True)
    OutgoingEmail.objects.bulk_create([OutgoingEmail(comment_id=pk) for pk in waiting.values_list("pk", flat=True)])
    Comment.objects.filter(delivery="pending").update(delivery="queued")


def backwards(apps, schema_editor):
    Comment = apps.get_model("tickets", "Comment")
    Comment.objects.filter(delivery__in=("queued", "sending", "unknown")).update(delivery="pending")


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0008_delivery_states_and_email_outbox"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
