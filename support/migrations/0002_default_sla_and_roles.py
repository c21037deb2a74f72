"""Default SLA policies per priority, and the roles' permissions on support records."""

from django.db import migrations


def create_policies(apps, schema_editor):
    from support.defaults import ensure_default_sla_policies

    ensure_default_sla_policies(apps)


def sync_roles(apps, schema_editor):
    from crm_project.roles import sync_roles as sync

    sync(apps)


class Migration(migrations.Migration):
    dependencies = [("support", "0001_initial"), ("contacts", "0002_roles")]

    operations = [
        migrations.RunPython(create_policies, migrations.RunPython.noop),
        migrations.RunPython(sync_roles, migrations.RunPython.noop),
    ]
