from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = "Dashboard"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tickets.events import ticket_changed, tickets_opened
        from tickets.models import Ticket

        from .rollups import on_ticket_changed, on_tickets_opened

        ticket_changed.connect(on_ticket_changed, sender=Ticket, dispatch_uid="dashboard_rollups")
        tickets_opened.connect(on_tickets_opened, sender=Ticket, dispatch_uid="dashboard_rollups_opened")
