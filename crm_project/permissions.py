"""Permission checks, one place per interface: a mixin for pages, a class for the API."""

from django.contrib.auth.mixins import PermissionRequiredMixin
from rest_framework.permissions import DjangoModelPermissions


class ModelPermissions(DjangoModelPermissions):
    """Django model permissions for the API, reads included (view_<model>)."""

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
    }


class PagePermissionMixin(PermissionRequiredMixin):
    """Every staff page declares `permission_required`; a user without it gets a clear 403 page."""

    raise_exception = True
