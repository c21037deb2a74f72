from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SupportConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "support"

    def ready(self):
        from .defaults import on_post_migrate

        post_migrate.connect(on_post_migrate, sender=self, dispatch_uid="support.defaults")
        from audit.recording import register
        from contacts import registry
        from crm_project import outbox

        from . import importers, models, panels, services, timeline

        register(models.Ticket)
        outbox.register("ticket replies", services.replies_dispatch_pending)

        registry.register_timeline_source(timeline.contact_timeline, permission="support.view_ticket")
        registry.register_search_provider(timeline.search_tickets)
        registry.register_demo_seeder("support", "support.demo.seed_support")
        registry.register_contact_panel(panels.contact_panel)
        registry.register_importer(importers.TicketImporter())
