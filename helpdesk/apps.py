from django.apps import AppConfig


class HelpdeskConfig(AppConfig):
    """The project package as an app of its own, for what belongs to operations rather than
    to tickets or a channel: the heartbeats of beat and workers."""

    name = "helpdesk"
    verbose_name = "Operations"
