"""Mark the email addresses we already hold as confirmed or not, and give each requester a
primary address (0005 added the fields).

The rule: an address the requester wrote from (an InboundEmail from it that became one of
the requester's comments, or opened their ticket) is confirmed, as of their first such
message; we already answer mail there. Every other address (left on the public form or
typed in by an agent, which nothing recorded) stays unconfirmed and receives nothing until
its owner confirms it or an agent adds it again (which records who vouched for it). Among
the confirmed addresses, the primary is the one used most recently, which is where replies
went before this change; a requester with no confirmed address has no primary.

Reversing it clears the marks (0005's own reversal then drops the fields).
"""

from django.db import migrations
from django.db.models import Min


def mark(apps, schema_editor):
    Identity = apps.get_model("tickets", "Identity")
    InboundEmail = apps.get_model("tickets", "InboundEmail")
    first_mail = {}
    rows = (
        InboundEmail.objects.filter(comment__author_requester__isnull=False)
        .values("from_address", "comment__author_requester_id")
        .annotate(first=Min("received_at"))
    )
    for row in rows.iterator():
        first_mail[(row["from_address"].strip().lower(), row["comment__author_requester_id"])] = row["first"]
    primary_of = {}
    for identity in Identity.objects.filter(kind="email").order_by("updated_at", "pk").iterator():
        first = first_mail.get((identity.value, identity.requester_id))
        if first is None:
            continue
        Identity.objects.filter(pk=identity.pk).update(confirmed_at=first)
        primary_of[identity.requester_id] = identity.pk  # the latest used wins: ordered by updated_at
    for pk in primary_of.values():
        Identity.objects.filter(pk=pk).update(is_primary=True)


def unmark(apps, schema_editor):
    Identity = apps.get_model("tickets", "Identity")
    Identity.objects.filter(kind="email").update(confirmed_at=None, is_primary=False)


class Migration(migrations.Migration):

    dependencies = [
        ("tickets", "0005_email_address_trust"),
    ]

    operations = [
        migrations.RunPython(mark, unmark),
    ]
