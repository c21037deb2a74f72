"""Administrators read the audit trail and restore deleted records (crm_project.roles)."""

from django.db import migrations


def sync_roles(apps, schema_editor):
    from crm_project.roles import sync_roles

    sync_roles(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
        ("contacts", "0002_roles"),
    ]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
