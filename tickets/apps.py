from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "tickets"

    def ready(self) -> None:
        from django.conf import settings

        from .mail import tasks as mail_tasks
        from .mail.models import OutgoingEmail, OutgoingNotification
        from .mail.outbound import register_email_sender
        from .outbox import register_outbox

        # Channel senders for tickets.outbound.reply_to_requester.
        register_email_sender()
        # The email outboxes and the tasks delivering their rows (importing the task module
        # here is also what registers the tasks with the Celery worker).
        register_outbox(OutgoingEmail, mail_tasks.send_email_comment,
                        stale_seconds=lambda: settings.EMAIL_SEND_STALE_SECONDS)
        register_outbox(OutgoingNotification, mail_tasks.send_notification,
                        stale_seconds=lambda: settings.EMAIL_SEND_STALE_SECONDS)
