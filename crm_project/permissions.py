"""Permission checks, one place per interface: a mixin for pages, a class for the API."""

from django.contrib.auth.mixins import PermissionRequiredMixin
from rest_framework.permissions import DjangoModelPermissions

STANDARD_ACTIONS = {"list", "create", "retrieve", "update", "partial_update", "destroy", "metadata", None}


class ModelPermissions(DjangoModelPermissions):
    """Django model permissions for the API, reads included (view_<model>).

    A custom POST action (convert, win, renew ...) changes an existing record, so it
    needs change_<model>.
    """

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
    }

    def has_permission(self, request, view):
        if request.method == "POST" and getattr(view, "action", None) not in STANDARD_ACTIONS:
            if not request.user or not request.user.is_authenticated:
                return False
            model = self._queryset(view).model
            return request.user.has_perm(f"{model._meta.app_label}.change_{model._meta.model_name}")
        return super().has_permission(request, view)


class PagePermissionMixin(PermissionRequiredMixin):
    """Every staff page declares `permission_required`; a user without it gets a clear 403 page."""

    raise_exception = True
