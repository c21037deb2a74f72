"""The default sales pipeline with sensible stages, and the roles' permissions on sales records."""

from django.db import migrations

DEFAULT_STAGES = [
    # name, win probability in percent, kind
    ("Qualification", 10, "open"),
    ("Needs analysis", 25, "open"),
    ("Proposal", 50, "open"),
    ("Negotiation", 75, "open"),
    ("Won", 100, "won"),
    ("Lost", 0, "lost"),
]


def create_default_pipeline(apps, schema_editor):
    pipeline_model = apps.get_model("sales", "Pipeline")
    stage_model = apps.get_model("sales", "Stage")
    if pipeline_model.objects.exists():
        return
    pipeline = pipeline_model.objects.create(name="Sales", is_default=True)
    stage_model.objects.bulk_create(
        stage_model(pipeline=pipeline, name=name, position=position, probability=probability, kind=kind)
        for position, (name, probability, kind) in enumerate(DEFAULT_STAGES, start=1)
    )


def sync_roles(apps, schema_editor):
    from crm_project.roles import sync_roles as sync

    sync(apps)


class Migration(migrations.Migration):
    dependencies = [("sales", "0001_initial"), ("contacts", "0002_roles")]

    operations = [
        migrations.RunPython(create_default_pipeline, migrations.RunPython.noop),
        migrations.RunPython(sync_roles, migrations.RunPython.noop),
    ]
