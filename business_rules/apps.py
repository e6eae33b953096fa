from django.apps import AppConfig


class BusinessRulesConfig(AppConfig):
    name = "business_rules"
    verbose_name = "Business rules"

    def ready(self) -> None:
        from . import receivers, signals

        signals.connect()
        receivers.connect()
