from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = "Dashboard"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from business_rules.sla.models import TicketClocks
        from business_rules.sla.outcomes import sla_outcomes_changed
        from tickets.events import messages_added, ticket_changed, tickets_merging, tickets_opened
        from tickets.models import Ticket

        from .rollups import (
            on_messages_added,
            on_sla_outcomes_changed,
            on_ticket_changed,
            on_tickets_merging,
            on_tickets_opened,
        )

        ticket_changed.connect(on_ticket_changed, sender=Ticket, dispatch_uid="dashboard_rollups")
        tickets_opened.connect(on_tickets_opened, sender=Ticket, dispatch_uid="dashboard_rollups_opened")
        messages_added.connect(on_messages_added, sender=Ticket, dispatch_uid="dashboard_rollups_messages")
        tickets_merging.connect(on_tickets_merging, sender=Ticket, dispatch_uid="dashboard_rollups_merges")
        sla_outcomes_changed.connect(on_sla_outcomes_changed, sender=TicketClocks, dispatch_uid="dashboard_rollups_sla")
