from celery import shared_task

from .lifecycle import close_solved_tickets as close_solved


@shared_task
def close_solved_tickets() -> int:
    return close_solved()
