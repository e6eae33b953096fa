from django.apps import AppConfig


class BusinessRulesConfig(AppConfig):
    name = "business_rules"
    verbose_name = "Business rules"

    def ready(self) -> None:
        from tickets.panels import REPLY_TOOLS, SIDEBAR, register_ticket_panel
        from tickets.replies import register_after_reply

        from . import receivers, signals
        from .macros.applying import apply_macros_after_reply

        signals.connect()
        receivers.connect()
        # The ticket's SLA clocks on its page (tickets knows only the next due time).
        register_ticket_panel("business_rules/_sla_panel.html", place=SIDEBAR)
        # Macros: the picker in the reply box, and their actions once the reply is posted.
        register_ticket_panel("business_rules/macros/_picker.html", place=REPLY_TOOLS)
        register_after_reply(apply_macros_after_reply)
