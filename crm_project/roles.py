"""The four roles of DESIGN.md as Django groups, with their model permissions.

`sync_roles` is idempotent: the data migration that creates the groups calls it, and
every later migration that adds models calls it again so the groups get their
permissions (a rule names an app; models added to the app later are covered).
"""

from django.contrib.auth.management import create_permissions

ALL = ("view", "add", "change", "delete")
VIEW = ("view",)

# role -> {"app_label" or "app_label.model": actions}; a model entry overrides its app's.
ROLE_RULES: dict[str, dict[str, tuple[str, ...]]] = {
    "sales": {
        "contacts": ALL,
        "contacts.channel": VIEW,
        "contacts.importjob": (),  # importing history is for managers and administrators
        "sales": ALL,
        # Set up by administrators; history is written by the services only.
        "sales.pipeline": VIEW,
        "sales.stage": VIEW,
        "sales.dealstagechange": VIEW,
        "sales.salesevent": VIEW,
        # Sales reads a contact's tickets but does not work them.
        "support.ticket": VIEW,
        "support.ticketmessage": VIEW,
    },
    "support": {
        "contacts": ALL,
        "contacts.channel": VIEW,
        "contacts.importjob": (),
        "support": ALL,
        "support.slapolicy": VIEW,
        "support.ticketevent": VIEW,
    },
    "manager": {
        "contacts": VIEW,
        # The import page (add_importjob); the imported rows are written by the import, not by hand.
        "contacts.importjob": ("view", "add"),
        "sales": VIEW,
        "support": VIEW,
        "surveys": ALL,
        "kpis": ALL,
    },
    "admin": {
        "contacts": ALL,
        "sales": ALL,
        "support": ALL,
        "surveys": ALL,
        "kpis": ALL,
        "auth": ALL,
        "authtoken": ALL,
        # Failed logins and the locks they set (django-axes): deleting an attempt lifts its lock.
        "axes": ("view", "delete"),
        # The trail is written by the app only; administrators read it and restore deleted records.
        "audit": ("view", "restore"),
    },
}
ROLE_NAMES = tuple(ROLE_RULES)


def _actions_for(rules: dict[str, tuple[str, ...]], app_label: str, model: str) -> tuple[str, ...]:
    return rules.get(f"{app_label}.{model}", rules.get(app_label, ()))


def sync_roles(apps) -> None:
    """Create the role groups and give each exactly the permissions its rules grant."""
    for app_config in apps.get_app_configs():
        # Permissions are normally created after migrations; make sure they exist now. create_permissions
        # skips app configs without a models module, as a migration's historical ones are; put it back after.
        models_module = getattr(app_config, "models_module", None)
        app_config.models_module = models_module or True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = models_module

    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    permissions = list(permission_model.objects.select_related("content_type"))
    for role, rules in ROLE_RULES.items():
        group, _ = group_model.objects.get_or_create(name=role)
        granted = [
            permission
            for permission in permissions
            if permission.codename.split("_", 1)[0]
            in _actions_for(rules, permission.content_type.app_label, permission.content_type.model)
            and permission.codename.endswith("_" + permission.content_type.model)
        ]
        group.permissions.set(granted)
