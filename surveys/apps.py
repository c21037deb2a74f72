from django.apps import AppConfig


class SurveysConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "surveys"

    def ready(self):
        from contacts import registry as contacts_registry
        from crm_project import outbox
        from support import registry as support_registry

        from . import importers, services, timeline

        # Inside the resolving transaction: the invitations are written with it (the outbox), the e-mails go after.
        support_registry.on_ticket_resolved(services.invite_after_ticket_resolved)
        outbox.register("survey invitations", services.invitations_dispatch_pending)
        contacts_registry.register_timeline_source(timeline.contact_timeline, permission="surveys.view_response")
        contacts_registry.register_contact_panel(timeline.contact_panel)
        # After "support" (INSTALLED_APPS order): the CSAT answers follow the demo tickets it resolved.
        contacts_registry.register_demo_seeder("surveys", "surveys.demo.seed_surveys")
        contacts_registry.register_importer(importers.SurveyResponseImporter())
