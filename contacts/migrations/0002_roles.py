"""Create the role groups (sales, support, manager, admin) with their permissions."""

from django.db import migrations


def create_roles(apps, schema_editor):
    from crm_project.roles import sync_roles

    sync_roles(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("authtoken", "0004_alter_tokenproxy_options"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
