"""Permission checks, one place per interface: a mixin for pages, a class for the API, a base for the admin."""

from collections import Counter

from django.contrib import admin
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.db import router
from django.db.models import Model, ProtectedError, RestrictedError
from django.db.models.deletion import Collector
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

    def has_object_permission(self, request, view, obj):
        if request.method == "DELETE" and isinstance(obj, Model):
            try:
                hidden = hidden_cascade(request.user, [obj])
            except (ProtectedError, RestrictedError):
                return True  # the delete service answers that one (400, in use)
            if hidden:
                self.message = hidden_cascade_message(hidden)
                return False
        return True


class PagePermissionMixin(PermissionRequiredMixin):
    """Every staff page declares `permission_required`; a user without it gets a clear 403 page."""

    raise_exception = True


class CascadeCheckedAdmin(admin.ModelAdmin):
    """The admin, deleting one record or "delete selected": what goes along must be visible to the user too.

    Django checks the kinds the admin lists only; one selected record that would take along a kind the user
    may not see refuses the whole deletion (403 on confirming), as for a protected one.
    """

    def get_deleted_objects(self, objs, request):
        to_delete, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        if not protected:
            perms_needed |= set(hidden_cascade(request.user, objs))
        return to_delete, model_count, perms_needed, protected


def hidden_cascade(user, records) -> list[str]:
    """What deleting `records` would take along that `user` may not see: ["invitations and responses (Surveys)"].

    A role must not destroy what it cannot read: deleting a contact takes its survey answers along, which
    sales and support never see. Raises ProtectedError, as deleting would, when a record is protected.
    """
    records = list(records)
    if not records:
        return []
    deleted = type(records[0])
    collector = Collector(using=router.db_for_write(deleted))
    collector.collect(records)

    def hidden(model) -> bool:
        opts = model._meta
        return (
            model is not deleted
            and not opts.auto_created
            and not user.has_perm(f"{opts.app_label}.view_{opts.model_name}")
        )

    kinds = {model for model in collector.data if hidden(model)}
    kinds |= {query.model for query in collector.fast_deletes if hidden(query.model) and query.exists()}
    by_app: dict[str, list[str]] = {}
    for model in kinds:
        by_app.setdefault(str(model._meta.app_config.verbose_name), []).append(str(model._meta.verbose_name_plural))
    return [f"{' and '.join(sorted(names))} ({app})" for app, names in sorted(by_app.items())]


def referring_records(error: ProtectedError | RestrictedError) -> str:
    """What a refused deletion is still referred to by, kind by kind: "1 deal, 2 leads"."""
    records = getattr(error, "protected_objects", None) or getattr(error, "restricted_objects", None) or ()
    counts = Counter(type(record)._meta for record in records)
    return ", ".join(
        f"{count} {meta.verbose_name if count == 1 else meta.verbose_name_plural}"
        for meta, count in sorted(counts.items(), key=lambda item: str(item[0].verbose_name))
    )


def hidden_cascade_message(hidden: list[str]) -> str:
    return f"Deleting it would also delete {', '.join(hidden)}, which your role may not see; nothing was deleted."
