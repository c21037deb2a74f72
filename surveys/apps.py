from django.apps import AppConfig


def _ticket_resolved(ticket_id: int) -> None:
    from .tasks import invite_after_ticket_resolved

    invite_after_ticket_resolved.delay(ticket_id)


class SurveysConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "surveys"

    def ready(self):
        from support import registry as support_registry

        support_registry.on_ticket_resolved(_ticket_resolved)
