from django.apps import AppConfig


def _ticket_resolved(ticket_id: int) -> None:
    from .tasks import invite_after_ticket_resolved

    invite_after_ticket_resolved.delay(ticket_id)


class SurveysConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "surveys"

    def ready(self):
        from contacts import registry as contacts_registry
        from support import registry as support_registry

        from . import demo, importers, timeline

        support_registry.on_ticket_resolved(_ticket_resolved)
        contacts_registry.register_timeline_source(timeline.contact_timeline, permission="surveys.view_response")
        contacts_registry.register_contact_panel(timeline.contact_panel)
        # After "support" (INSTALLED_APPS order): the CSAT answers follow the demo tickets it resolved.
        contacts_registry.register_demo_seeder("surveys", demo.seed_surveys)
        contacts_registry.register_importer(importers.SurveyResponseImporter())
