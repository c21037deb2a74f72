import datetime

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone


class AuditJSONEncoder(DjangoJSONEncoder):
    """Django's encoder, but times keep their microseconds: a restored record gets back exactly what it had."""

    def default(self, o):
        if isinstance(o, datetime.datetime):
            return o.isoformat()
        if isinstance(o, datetime.time):
            return o.isoformat()
        return super().default(o)


class AuditEntry(models.Model):
    """One change to one audited record: who, when, from where, and each field's old and new value.

    Written in the transaction of the change, so a change that rolls back leaves no entry. A deletion keeps
    the whole record (and the rows that went with it) in `snapshot`, from which an administrator restores it.
    """

    class Action(models.TextChoices):
        CREATE = "create", "Created"
        UPDATE = "update", "Changed"
        DELETE = "delete", "Deleted"
        RESTORE = "restore", "Restored"

    class Source(models.TextChoices):
        PAGE = "page", "page"
        API = "api", "API"
        ADMIN = "admin", "admin"
        IMPORT = "import", "import"
        SYSTEM = "system", "system"

    at = models.DateTimeField(default=timezone.now)
    action = models.CharField(max_length=10, choices=Action.choices)
    model = models.CharField(max_length=100, help_text='The record\'s kind, e.g. "contacts.contact".')
    object_id = models.BigIntegerField()
    object_repr = models.CharField(max_length=200, blank=True, help_text="The record's name when it changed.")
    # No database constraint and no cascade: the trail outlives the users it names (see actor_label).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    actor_label = models.CharField(max_length=200, help_text='Who, as named then; "system" for periodic tasks.')
    source = models.CharField(max_length=10, choices=Source.choices)
    changes = models.JSONField(
        null=True,
        blank=True,
        default=dict,
        encoder=AuditJSONEncoder,
        help_text="field name -> [old value, new value]; empty for a record the CSV import created.",
    )
    snapshot = models.JSONField(
        null=True, blank=True, encoder=AuditJSONEncoder, help_text="A deletion: the record and what went with it."
    )
    note = models.CharField(max_length=500, blank=True)
    restored_at = models.DateTimeField(null=True, blank=True, help_text="A deletion: when it was undone.")

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "audit entry"
        verbose_name_plural = "audit trail"
        indexes = [
            models.Index(fields=["model", "object_id", "at"], name="audit_record_time_idx"),
            models.Index(fields=["at"], condition=Q(action="delete"), name="audit_deletions_idx"),
        ]
        permissions = [("restore_auditentry", "Can restore deleted records")]

    def __str__(self):
        return f"{self.get_action_display()} {self.model} {self.object_id} by {self.actor_label}"

    @property
    def kind_label(self) -> str:
        """The record's kind in words ("contact"), from the model when it is known."""
        from django.apps import apps

        try:
            return str(apps.get_model(self.model)._meta.verbose_name)
        except LookupError:
            return self.model
