"""The default sales pipeline with sensible stages, and the roles' permissions on sales records."""

from django.db import migrations


def create_default_pipeline(apps, schema_editor):
    from sales.defaults import ensure_default_pipeline

    ensure_default_pipeline(apps)


def sync_roles(apps, schema_editor):
    from crm_project.roles import sync_roles as sync

    sync(apps)


class Migration(migrations.Migration):
    dependencies = [("sales", "0001_initial"), ("contacts", "0002_roles")]

    operations = [
        migrations.RunPython(create_default_pipeline, migrations.RunPython.noop),
        migrations.RunPython(sync_roles, migrations.RunPython.noop),
    ]
