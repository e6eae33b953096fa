"""Requesters erased before `Requester.erased_at` existed get it from their `Erasure` row,
and their tickets lose the external ids (Message-IDs, post ids) that still threaded the
person's later messages onto them (see tickets.privacy._cut_threads)."""

from django.db import migrations


def mark_erased(apps, schema_editor):
    Erasure = apps.get_model("tickets", "Erasure")
    Requester = apps.get_model("tickets", "Requester")
    Comment = apps.get_model("tickets", "Comment")
    CommentRevision = apps.get_model("tickets", "CommentRevision")
    for requester_id, erased_at in Erasure.objects.order_by("erased_at").values_list("requester_id", "erased_at"):
        Requester.objects.filter(pk=requester_id, erased_at=None).update(erased_at=erased_at)
        comments = Comment.objects.filter(ticket__requester_id=requester_id)
        comments.exclude(external_id=None).update(external_id=None)
        CommentRevision.objects.filter(comment__in=comments).exclude(external_id="").update(external_id="")


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0015_requester_erased_at"),
    ]

    # Going back leaves the ids blank: they were meant to be gone.
    operations = [migrations.RunPython(mark_erased, migrations.RunPython.noop)]
