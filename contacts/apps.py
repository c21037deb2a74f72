from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_roles(sender, apps=None, **kwargs):
    from django.apps import apps as current_apps

    from crm_project.roles import sync_roles

    # `flush` sends post_migrate without `apps`: the current models are the right ones then.
    sync_roles(apps if apps is not None else current_apps)


class ContactsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "contacts"

    def ready(self):
        # The role groups come from a data migration; this keeps them (and their permissions)
        # whole after every migrate and after a test database flush.
        post_migrate.connect(_sync_roles, sender=self, dispatch_uid="contacts.sync_roles")
        from audit.recording import register
        from crm_project import outbox

        from . import import_jobs, importers, models, registry

        outbox.register("import jobs", import_jobs.import_jobs_dispatch_pending)
        register(models.Company)
        register(models.Contact)
        registry.register_importer(importers.CompanyImporter())
        registry.register_importer(importers.ContactImporter())
        registry.register_importer(importers.InteractionImporter())
