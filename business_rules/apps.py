from django.apps import AppConfig


class BusinessRulesConfig(AppConfig):
    name = "business_rules"
    verbose_name = "Business rules"

    def ready(self) -> None:
        from tickets.panels import SIDEBAR, register_ticket_panel

        from . import receivers, signals

        signals.connect()
        receivers.connect()
        # The ticket's SLA clocks on its page (tickets knows only the next due time).
        register_ticket_panel("business_rules/_sla_panel.html", place=SIDEBAR)
