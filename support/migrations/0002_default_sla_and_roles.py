"""Default SLA policies per priority, and the roles' permissions on support records."""

from decimal import Decimal

from django.db import migrations

DEFAULT_TARGETS = {  # priority: (first response hours, resolution hours)
    "urgent": ("1", "4"),
    "high": ("4", "24"),
    "normal": ("8", "48"),
    "low": ("24", "120"),
}


def create_policies(apps, schema_editor):
    policy_model = apps.get_model("support", "SlaPolicy")
    for priority, (first_response, resolution) in DEFAULT_TARGETS.items():
        policy_model.objects.get_or_create(
            priority=priority,
            defaults={"first_response_hours": Decimal(first_response), "resolution_hours": Decimal(resolution)},
        )


def sync_roles(apps, schema_editor):
    from crm_project.roles import sync_roles as sync

    sync(apps)


class Migration(migrations.Migration):
    dependencies = [("support", "0001_initial"), ("contacts", "0002_roles")]

    operations = [
        migrations.RunPython(create_policies, migrations.RunPython.noop),
        migrations.RunPython(sync_roles, migrations.RunPython.noop),
    ]
