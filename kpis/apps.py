from django.apps import AppConfig


class KpisConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "kpis"
    verbose_name = "KPIs"

    def ready(self):
        from contacts import registry
        from kpis import stale

        stale.connect()
        registry.register_history_listener(stale.history_changed)
