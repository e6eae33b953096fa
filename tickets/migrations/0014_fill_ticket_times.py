"""Fill the new "when" columns of existing tickets from what they already hold: the status
changed when the ticket was solved, else at the latest update we know of (an upper bound,
so "hours since status changed" never fires early), and each side's last public message
from the comments."""

from django.db import migrations
from django.db.models import F, Max, OuterRef, Subquery


def fill(apps, schema_editor):
    Ticket = apps.get_model("tickets", "Ticket")
    Comment = apps.get_model("tickets", "Comment")
    # Solved and closed tickets last changed status when solved (closing kept solved_at):
    # what the close-solved-tickets automation counts from.
    Ticket.objects.filter(solved_at__isnull=False).update(status_changed_at=F("solved_at"))
    Ticket.objects.filter(status_changed_at__isnull=True).update(status_changed_at=F("updated_at"))

    def latest(**filters):
        rows = Comment.objects.filter(ticket=OuterRef("pk"), is_public=True, **filters)
        return Subquery(rows.order_by().values("ticket").annotate(at=Max("created_at")).values("at")[:1])

    Ticket.objects.update(
        requester_replied_at=latest(author_requester__isnull=False, author_user__isnull=True),
        agent_replied_at=latest(author_user__isnull=False),
        assignee_replied_at=latest(author_user=OuterRef("assignee")),
    )


class Migration(migrations.Migration):
    dependencies = [("tickets", "0013_ticket_times_and_next_breach")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
