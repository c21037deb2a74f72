from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SalesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "sales"

    def ready(self):
        from .defaults import on_post_migrate

        post_migrate.connect(on_post_migrate, sender=self, dispatch_uid="sales.defaults")
        from audit.recording import register
        from contacts import registry

        from . import importers, models, panels, timeline

        for model in (models.Lead, models.Deal, models.Order, models.Subscription):
            register(model)

        registry.register_timeline_source(timeline.contact_timeline, permission="sales.view_deal")
        registry.register_search_provider(timeline.search_leads)
        registry.register_search_provider(timeline.search_deals)
        registry.register_contact_panel(panels.contact_sales_panel)
        registry.register_demo_seeder("sales", "sales.demo.seed_sales")
        for importer in (
            importers.CampaignImporter,
            importers.SpendImporter,
            importers.LeadImporter,
            importers.DealImporter,
            importers.OrderImporter,
            importers.SubscriptionImporter,
        ):
            registry.register_importer(importer())
