"""Rows every installation starts with: the default pipeline and its stages.

Created by a data migration, and again after every migrate or test-database flush
(post_migrate), so they are there whenever the schema is; idempotent.
"""

DEFAULT_STAGES = [
    # name, win probability in percent, kind
    ("Qualification", 10, "open"),
    ("Needs analysis", 25, "open"),
    ("Proposal", 50, "open"),
    ("Negotiation", 75, "open"),
    ("Won", 100, "won"),
    ("Lost", 0, "lost"),
]


def ensure_default_pipeline(apps) -> None:
    pipeline_model = apps.get_model("sales", "Pipeline")
    stage_model = apps.get_model("sales", "Stage")
    if pipeline_model.objects.exists():
        return
    pipeline = pipeline_model.objects.create(name="Sales", is_default=True)
    stage_model.objects.bulk_create(
        stage_model(pipeline=pipeline, name=name, position=position, probability=probability, kind=kind)
        for position, (name, probability, kind) in enumerate(DEFAULT_STAGES, start=1)
    )


def on_post_migrate(sender, apps=None, **kwargs) -> None:
    from django.apps import apps as current_apps

    ensure_default_pipeline(apps or current_apps)
