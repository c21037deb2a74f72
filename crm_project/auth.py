"""Django's model backend, reading a user's permissions and roles together: one query per request, not three.

Every page checks a permission, draws the menu from the user's permissions and names the user's roles
(groups). Django asks for the user's own permissions, the groups' permissions and the groups apart; here
one UNION answers all three, read fresh from the database on each request (a role taken away counts at
once, whatever the cache holds).
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection

# The first column of a role's row: no app is named so, unlike a permission's first column (its app label).
ROLE = ""


def _access_sql(superuser: bool) -> str:
    """Permissions (app label, codename) then roles ('', name) of the user given as the parameter, by
    hand-written SQL: it runs on every request, and the ORM's version (a UNION of outer joins over every
    permission) cost twice the time, building it included."""
    user_model = get_user_model()
    tables = {
        "permission": Permission._meta.db_table,
        "content_type": ContentType._meta.db_table,
        "group": Group._meta.db_table,
        "user_permissions": user_model.user_permissions.through._meta.db_table,
        "user_groups": user_model.groups.through._meta.db_table,
        "group_permissions": Group.permissions.through._meta.db_table,
    }
    q = {name: connection.ops.quote_name(table) for name, table in tables.items()}
    granted = (
        ""
        if superuser
        else f"""WHERE p.id IN (
            SELECT permission_id FROM {q["user_permissions"]} WHERE user_id = %(user)s
            UNION SELECT gp.permission_id FROM {q["group_permissions"]} gp
            JOIN {q["user_groups"]} ug ON ug.group_id = gp.group_id WHERE ug.user_id = %(user)s
        )"""
    )
    return f"""
        SELECT ct.app_label, p.codename FROM {q["permission"]} p
        JOIN {q["content_type"]} ct ON ct.id = p.content_type_id
        {granted}
        UNION ALL
        SELECT '{ROLE}', g.name FROM {q["group"]} g JOIN {q["user_groups"]} ug ON ug.group_id = g.id
        WHERE ug.user_id = %(user)s
    """


def load_access(user) -> None:
    """Read the permissions ("app.codename") and role names of an active user into the user object."""
    with connection.cursor() as cursor:
        cursor.execute(_access_sql(user.is_superuser), {"user": user.pk})
        rows = cursor.fetchall()
    perms, roles = set(), []
    for app_label, name in rows:
        if app_label == ROLE:
            roles.append(name)
        else:
            perms.add(f"{app_label}.{name}")
    user._perm_cache = perms
    user._role_names = sorted(roles)


def role_names(user) -> list[str]:
    """The names of the user's roles (groups), alphabetically."""
    if not user.is_authenticated:
        return []
    if not hasattr(user, "_role_names"):
        if user.is_active:
            load_access(user)
        else:
            user._role_names = sorted(user.groups.values_list("name", flat=True))
    return user._role_names


class AccessBackend(ModelBackend):
    """ModelBackend whose permission checks read permissions and roles in one query (load_access)."""

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            load_access(user_obj)
        return user_obj._perm_cache
