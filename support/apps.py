from django.apps import AppConfig


class SupportConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "support"

    def ready(self):
        from contacts import registry

        from . import demo, panels, timeline

        registry.register_timeline_source(timeline.contact_timeline)
        registry.register_search_provider(timeline.search_tickets)
        registry.register_demo_seeder("support", demo.seed_support)
        registry.register_contact_panel(panels.contact_panel)
