"""Django's model backend, reading a user's permissions and roles together: one query per request, not three.

Every page checks a permission, draws the menu from the user's permissions and names the user's roles
(groups). Django asks for the user's own permissions, the groups' permissions and the groups apart; here
one UNION answers all three, read fresh from the database on each request (a role taken away counts at
once, whatever the cache holds).
"""

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db.models import Q, Value

# The first column of a role's row: no app is named so, unlike a permission's first column (its app label).
ROLE = ""


def load_access(user) -> None:
    """Read the permissions ("app.codename") and role names of an active user into the user object."""
    permissions = (
        Permission.objects.all() if user.is_superuser else Permission.objects.filter(Q(user=user) | Q(group__user=user))
    )
    rows = (
        permissions.values_list("content_type__app_label", "codename")
        .order_by()
        .union(Group.objects.filter(user=user).annotate(role=Value(ROLE)).values_list("role", "name").order_by())
    )
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
