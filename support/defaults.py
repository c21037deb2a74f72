"""Rows every installation starts with: an SLA policy per priority.

Created by a data migration, and again after every migrate or test-database flush
(post_migrate) when there are none at all; an administrator's edits are kept.
"""

from decimal import Decimal

DEFAULT_TARGETS = {  # priority: (first response hours, resolution hours)
    "urgent": ("1", "4"),
    "high": ("4", "24"),
    "normal": ("8", "48"),
    "low": ("24", "120"),
}


def ensure_default_sla_policies(apps) -> None:
    policy_model = apps.get_model("support", "SlaPolicy")
    if policy_model.objects.exists():
        return
    policy_model.objects.bulk_create(
        policy_model(
            priority=priority, first_response_hours=Decimal(first_response), resolution_hours=Decimal(resolution)
        )
        for priority, (first_response, resolution) in DEFAULT_TARGETS.items()
    )


def on_post_migrate(sender, apps=None, **kwargs) -> None:
    from django.apps import apps as current_apps

    ensure_default_sla_policies(apps or current_apps)
