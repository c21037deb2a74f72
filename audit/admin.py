from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from . import services
from .models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """The trail, read-only; deleted records can be restored from here as from the Deleted records page."""

    list_display = ["at", "action", "model", "object_id", "object_repr", "actor_label", "source", "restored_at"]
    list_filter = ["action", "model", "source"]
    search_fields = ["object_repr", "actor_label", "note", "=object_id"]
    date_hierarchy = "at"
    actions = ["restore_selected"]
    exclude = ["snapshot"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_restore_permission(self, request):
        return request.user.has_perm("audit.restore_auditentry")

    @admin.action(description="Restore the selected deleted records", permissions=["restore"])
    def restore_selected(self, request, queryset):
        restored = 0
        for entry in queryset.filter(action=AuditEntry.Action.DELETE).order_by("at"):
            try:
                services.record_restore(entry=entry)
            except ValidationError as error:
                self.message_user(request, f"{entry.object_repr}: {' '.join(error.messages)}", messages.ERROR)
            else:
                restored += 1
        if restored:
            self.message_user(request, f"Restored {restored} record(s).", messages.SUCCESS)
