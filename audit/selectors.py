"""Reads of the audit trail: a record's history as people read it, the deleted records."""

from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.text import capfirst

from crm_project.templatetags.crm import display_name

from . import recording
from .models import AuditEntry

HISTORY_LIMIT = 50
EMPTY = "—"


@dataclass(frozen=True)
class Change:
    label: str
    old: str
    new: str


@dataclass
class HistoryItem:
    entry: AuditEntry
    changes: list[Change] = field(default_factory=list)

    @property
    def title(self) -> str:
        return self.entry.get_action_display()


@dataclass
class RecordHistory:
    items: list[HistoryItem]
    more: bool  # older entries exist beyond the ones shown
    limit: int


def record_history(record: models.Model, *, limit: int = HISTORY_LIMIT) -> RecordHistory:
    """The latest entries of a record's trail, newest first, each change in words.

    A fixed number of queries however many entries: one for the entries, one per kind of record their
    references name (the owner's name, the company's ...), one more when some of those are deleted."""
    entries = list(
        AuditEntry.objects.filter(model=record._meta.label_lower, object_id=record.pk)
        .defer("snapshot")
        .order_by("-at", "-id")[: limit + 1]
    )
    return RecordHistory(items=describe(type(record), entries[:limit]), more=len(entries) > limit, limit=limit)


def describe(model: type[models.Model], entries: list[AuditEntry]) -> list[HistoryItem]:
    fields = {item.name: item for item in model._meta.concrete_fields}
    references = defaultdict(set)
    for entry in entries:
        for name, values in (entry.changes or {}).items():
            model_field = fields.get(name)
            if model_field is not None and model_field.is_relation:
                references[model_field.related_model].update(value for value in values if value is not None)
    names = _names(references)
    items = []
    for entry in entries:
        item = HistoryItem(entry)
        for name, (old, new) in (entry.changes or {}).items():
            model_field = fields.get(name)
            label = capfirst(model_field.verbose_name) if model_field is not None else name
            item.changes.append(Change(label, _shown(model_field, old, names), _shown(model_field, new, names)))
        items.append(item)
    return items


def _names(references: dict[type[models.Model], set]) -> dict[tuple[type, object], str]:
    """How each referenced record is called: its name now, or as it was when deleted."""
    names = {}
    user_model = get_user_model()
    for model, ids in references.items():
        # Their own required references come along: a stage is called by its pipeline too.
        related = [item.name for item in model._meta.concrete_fields if item.is_relation and not item.null]
        found = model._base_manager.select_related(*related).in_bulk(ids)
        for pk, obj in found.items():
            names[model, pk] = display_name(obj) if model is user_model else str(obj)
        gone = ids - set(found)
        if gone:
            deleted = AuditEntry.objects.filter(
                action=AuditEntry.Action.DELETE, model=model._meta.label_lower, object_id__in=gone
            ).values_list("object_id", "object_repr")
            for pk, label in deleted:
                names[model, pk] = f"{label} (deleted)"
            for pk in gone:
                names.setdefault((model, pk), f"#{pk} (deleted)")
    return names


def _shown(model_field, value, names) -> str:
    if value is None or value == "":
        return EMPTY
    if model_field is None:
        return str(value)
    if model_field.is_relation:
        return names.get((model_field.related_model, value), f"#{value}")
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    kind = model_field.get_internal_type()
    if kind == "DateTimeField":
        moment = parse_datetime(str(value))
        return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}" if moment else str(value)
    if kind == "DateField":
        day = parse_date(str(value))
        return f"{day:%Y-%m-%d}" if day else str(value)
    if kind == "BooleanField":
        return "yes" if value else "no"
    return str(value)


def deleted_records(*, model: str = "") -> models.QuerySet:
    """Deletions not undone yet, newest first (without their snapshots)."""
    deletions = AuditEntry.objects.filter(action=AuditEntry.Action.DELETE, restored_at__isnull=True)
    if model:
        deletions = deletions.filter(model=model)
    return deletions.defer("snapshot", "changes").order_by("-at", "-id")


def deleted_kinds() -> list[tuple[str, str]]:
    """(model label, plural name) of every audited kind, for the deleted records' filter."""
    return [
        (model._meta.label_lower, capfirst(model._meta.verbose_name_plural)) for model in recording.audited_models()
    ]
