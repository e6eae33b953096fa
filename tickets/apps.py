from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "tickets"

    def ready(self) -> None:
        # Channel senders for tickets.outbound.reply_to_requester (and their Celery tasks).
        from .mail.outbound import register_email_sender

        register_email_sender()
