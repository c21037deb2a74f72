from django.apps import AppConfig


class SalesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "sales"

    def ready(self):
        from contacts import registry

        from . import panels, timeline

        registry.register_timeline_source(timeline.contact_timeline)
        registry.register_search_provider(timeline.search_leads)
        registry.register_search_provider(timeline.search_deals)
        registry.register_contact_panel(panels.contact_sales_panel)
