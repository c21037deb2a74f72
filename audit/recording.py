"""How changes to the audited records are recorded.

- One row at a time (a page, the API, the admin, a service, a shell): model signals. Before a save the
  row's current values are read (one query, only the fields being saved); after it, the fields that
  differ go into one entry. A deletion keeps the whole record, the rows its deletion cascades to and the
  references it set to NULL, so that `services.record_restore` can put them back.
- Services that write many rows in one statement use `bulk_update` here instead of the manager's.
- The CSV import writes with COPY and bulk upserts, which send no signals: it records set-wise, per batch
  one INSERT ... SELECT for the records it created (`created_rows_statement`) and one bulk insert of the
  changes it made to existing ones (`change_rows`, written by the import's own writer).
- Deleting a user empties references in audited records (owners, assignees): `watch_deletions`.

Each app registers its audited models from its AppConfig.ready() with `register(Model)`.
Raw saves (fixtures, a restore) are not recorded here: the restore writes its own entry.

Why not django-simple-history, django-reversion or django-auditlog: each records through the same signals
(a history table per model, or a serialized version per save) and has no way in for the import's COPY; what
they would have saved us (the signal handlers) is the small part here, next to the set-wise import, the
bulk services, the restore with what a deletion took along, and a History page in a fixed number of queries.
"""

import datetime
import json
from collections import Counter
from dataclasses import dataclass

from django.core import serializers
from django.core.exceptions import ValidationError
from django.db import connections, models
from django.db.models.deletion import Collector
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save
from django.utils import timezone

from . import context
from .models import AuditEntry, AuditJSONEncoder

Action = AuditEntry.Action


@dataclass(frozen=True)
class Audited:
    """The fields of a model whose changes are recorded: every concrete one but the key and `auto_now` times."""

    model: type[models.Model]
    fields: tuple[models.Field, ...]

    @property
    def label(self) -> str:
        return self.model._meta.label_lower


_audited: dict[type[models.Model], Audited] = {}


def register(model: type[models.Model]) -> None:
    fields = tuple(
        field
        for field in model._meta.concrete_fields
        if not field.primary_key and not getattr(field, "auto_now", False)
    )
    _audited[model] = Audited(model, fields)
    uid = f"audit-{model._meta.label_lower}"
    pre_save.connect(_before_save, sender=model, dispatch_uid=f"{uid}-pre-save")
    post_save.connect(_after_save, sender=model, dispatch_uid=f"{uid}-post-save")
    pre_delete.connect(_before_delete, sender=model, dispatch_uid=f"{uid}-pre-delete")
    post_delete.connect(_after_delete, sender=model, dispatch_uid=f"{uid}-post-delete")


def watch_deletions(model: type[models.Model]) -> None:
    """Record what deleting one of these (a user) does to audited records: the references it empties
    (the owner of contacts, the assignee of tickets ...)."""
    uid = f"audit-{model._meta.label_lower}"
    pre_delete.connect(_before_delete, sender=model, dispatch_uid=f"{uid}-pre-delete")
    post_delete.connect(_after_delete, sender=model, dispatch_uid=f"{uid}-post-delete")


def audited_models() -> tuple[type[models.Model], ...]:
    return tuple(_audited)


def is_audited(model) -> bool:
    return model in _audited


# Values --------------------------------------------------------------------------------------------------------


def json_value(value):
    """A field's value as the trail keeps it: JSON types; times ISO 8601 with their offset; ids for references."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    return str(value)  # Decimal, UUID ...


def _python(field: models.Field, value):
    """The value as the field holds it once read back (a service may have set "10.00" on a money field)."""
    if value is None:
        return None
    try:
        return field.to_python(value)
    except ValidationError:
        return value


def _loaded(instance, fields) -> list[models.Field]:
    """The fields whose values the instance holds (a deferred field is neither saved nor compared)."""
    return [field for field in fields if field.attname in instance.__dict__]


def created_changes(instance) -> dict:
    """A new record: each field that has a value, as [None, value]."""
    changes = {}
    for field in _loaded(instance, _audited[type(instance)].fields):
        value = instance.__dict__[field.attname]
        if value is not None and value != "":
            changes[field.name] = [None, json_value(_python(field, value))]
    return changes


def _differences(fields, before: dict, instance) -> dict:
    changes = {}
    for field in fields:
        old, new = before[field.name], _python(field, instance.__dict__[field.attname])
        if old != new:
            changes[field.name] = [json_value(old), json_value(new)]
    return changes


def _entry(audited: Audited, pk, action: str, changes, actor: context.Actor, *, at=None, **extra) -> AuditEntry:
    return AuditEntry(
        at=at or timezone.now(),
        action=action,
        model=audited.label,
        object_id=pk,
        actor_id=actor.user_id,
        actor_label=actor.label,
        source=actor.source,
        changes=changes,
        note=extra.pop("note", actor.note)[:500],
        **extra,
    )


def _describe(instance) -> str:
    return str(instance)[:200]


# One row at a time: signals ------------------------------------------------------------------------------------


def _before_save(sender, instance, raw, using, update_fields, **kwargs):
    instance.__dict__.pop("_audit_before", None)
    if raw or instance.pk is None:
        return
    fields = _audited[sender].fields
    if update_fields is not None:
        fields = [field for field in fields if field.name in update_fields or field.attname in update_fields]
    fields = _loaded(instance, fields)
    if not fields:
        instance.__dict__["_audit_before"] = {}
        return
    row = sender._base_manager.using(using).filter(pk=instance.pk).values(*(field.attname for field in fields))
    row = row.first()
    if row is not None:
        instance.__dict__["_audit_before"] = {field.name: row[field.attname] for field in fields}


def _after_save(sender, instance, created, raw, using, **kwargs):
    before = instance.__dict__.pop("_audit_before", None)
    if raw:
        return
    audited = _audited[sender]
    if created or before is None:
        action, changes = Action.CREATE, created_changes(instance)
    else:
        action = Action.UPDATE
        changes = _differences([field for field in audited.fields if field.name in before], before, instance)
        if not changes:
            return
    entry = _entry(audited, instance.pk, action, changes, context.current(), object_repr=_describe(instance))
    entry.save(using=using)


def _serialized(objects) -> list[dict]:
    return serializers.serialize("python", objects)


def _emptied(collector: Collector, *, audited_only: bool) -> list[dict]:
    """The references a deletion sets to NULL: [{"model", "field", "ids"}]."""
    emptied = []
    for (field, _value), batches in collector.field_updates.items():
        if audited_only and field.model not in _audited:
            continue
        ids = []
        for batch in batches:
            ids.extend(
                batch.values_list("pk", flat=True) if isinstance(batch, models.QuerySet) else (o.pk for o in batch)
            )
        if ids:
            emptied.append({"model": field.model._meta.label_lower, "field": field.name, "ids": sorted(set(ids))})
    return emptied


def _before_delete(sender, instance, using, **kwargs):
    """Keep what the deletion takes away: the row, the rows it cascades to, the references it empties
    (of a watched model, such as a user, only the references it empties in audited records)."""
    instance.__dict__.pop("_audit_deletion", None)
    if instance.pk is None:
        return
    row = sender._base_manager.using(using).filter(pk=instance.pk).first()
    if row is None:
        return
    collector = Collector(using=using, origin=row)
    collector.collect([row])
    audited = sender in _audited
    deletion = {"repr": _describe(row), "emptied": _emptied(collector, audited_only=not audited)}
    if audited:
        cascaded = [
            obj
            for model, objects in collector.data.items()
            for obj in objects
            if not (model is sender and obj.pk == row.pk)
        ]
        for queryset in collector.fast_deletes:  # rows of models nobody listens to, deleted in one statement
            cascaded.extend(queryset)
        record = _serialized([row])[0]
        deletion["snapshot"] = {"record": record, "cascaded": _serialized(cascaded), "emptied": deletion["emptied"]}
    instance.__dict__["_audit_deletion"] = deletion


def _after_delete(sender, instance, using, **kwargs):
    deletion = instance.__dict__.pop("_audit_deletion", None)
    if deletion is None:
        return
    actor = context.current()
    entries = []
    snapshot = deletion.get("snapshot")
    if snapshot is not None:
        note = " ".join(part for part in (actor.note, what_went(snapshot)) if part)
        entries.append(
            _entry(
                _audited[sender],
                instance.pk,
                Action.DELETE,
                {},
                actor,
                object_repr=deletion["repr"],
                snapshot=snapshot,
                note=note,
            )
        )
    # The records that referred to it lost the reference: that is a change to them too.
    kind = sender._meta.verbose_name
    for emptied in deletion["emptied"]:
        model = _model(emptied["model"])
        if model in _audited:
            note = f"{kind} “{deletion['repr']}” was deleted"
            changes = {emptied["field"]: [instance.pk, None]}
            entries += [_entry(_audited[model], pk, Action.UPDATE, changes, actor, note=note) for pk in emptied["ids"]]
    AuditEntry.objects.using(using).bulk_create(entries)


def _model(label: str) -> type[models.Model]:
    from django.apps import apps

    return apps.get_model(label)


def counted(counts: Counter) -> str:
    """{"contacts.interaction": 3} -> "3 interactions"."""
    parts = []
    for label, count in counts.items():
        meta = _model(label)._meta
        parts.append(f"{count} {meta.verbose_name if count == 1 else meta.verbose_name_plural}")
    return ", ".join(parts)


def what_went(snapshot: dict) -> str:
    """In words: the rows a deletion took with it and the references it emptied."""
    cascaded = counted(Counter(item["model"] for item in snapshot.get("cascaded", ())))
    emptied = Counter()
    for item in snapshot.get("emptied", ()):
        emptied[item["model"]] += len(item["ids"])
    parts = []
    if cascaded:
        parts.append(f"Deleted with it: {cascaded}.")
    if emptied:
        parts.append(f"No longer linked to it: {counted(emptied)}.")
    return " ".join(parts)


# Many rows at once ---------------------------------------------------------------------------------------------


def bulk_update(objects: list[models.Model], fields: list[str]) -> None:
    """The manager's bulk_update, recorded: the old values are read first (one query), the entries of the
    rows that changed are written in one insert, and the KPI periods they count in are marked stale."""
    if not objects:
        return
    model = type(objects[0])
    audited = _audited[model]
    tracked = [field for field in audited.fields if field.name in fields or field.attname in fields]
    before = {
        row["pk"]: {field.name: row[field.attname] for field in tracked}
        for row in model._base_manager.filter(pk__in=[obj.pk for obj in objects]).values(
            "pk", *(field.attname for field in tracked)
        )
    }
    model._base_manager.bulk_update(objects, fields)
    actor, now = context.current(), timezone.now()
    entries = []
    for obj in objects:
        changes = _differences(tracked, before[obj.pk], obj) if obj.pk in before else {}
        if changes:
            entries.append(_entry(audited, obj.pk, Action.UPDATE, changes, actor, at=now, object_repr=_describe(obj)))
    AuditEntry.objects.bulk_create(entries)
    from kpis.stale import records_changed  # here, not at the top: kpis reads every app, audit included

    records_changed(objects, fields)


def record_changes(model: type[models.Model], changed: list[tuple[int, dict]], *, note: str = "") -> None:
    """Entries for rows changed by a statement that sends no signals (an UPDATE of many rows):
    [(id, {field name: [old, new]})]."""
    audited = _audited[model]
    actor, now = context.current(), timezone.now()
    AuditEntry.objects.bulk_create(
        _entry(audited, pk, Action.UPDATE, changes, actor, at=now, note=note or actor.note) for pk, changes in changed
    )


# The import: set-wise ------------------------------------------------------------------------------------------


def _import_actor(note: str) -> context.Actor:
    """Whoever the context names (the import job's user; "system" for the command line), from the import."""
    actor = context.current()
    return context.Actor(actor.user_id, actor.label, AuditEntry.Source.IMPORT, (actor.note or note)[:500])


def change_rows(
    model: type[models.Model], changed: list[tuple[int, dict]], at: datetime.datetime, *, note: str = ""
) -> list[dict]:
    """The import's updates as rows of AuditEntry attribute values, for its bulk writer:
    [(id, {attribute name: (old, new)})], the values as the import compares them."""
    audited = _audited[model]
    by_attname = {field.attname: field for field in audited.fields}
    actor = _import_actor(note)
    rows = []
    for pk, values in changed:
        changes = {
            by_attname[name].name: [json_value(old), json_value(new)]
            for name, (old, new) in values.items()
            if name in by_attname
        }
        if changes:
            rows.append(
                {
                    "at": at,
                    "action": Action.UPDATE,
                    "model": audited.label,
                    "object_id": pk,
                    "object_repr": "",
                    "actor_id": actor.user_id,
                    "actor_label": actor.label,
                    "source": actor.source,
                    "changes": json.dumps(changes, cls=AuditJSONEncoder),
                    "snapshot": None,
                    "note": actor.note,
                    "restored_at": None,
                }
            )
    return rows


def created_rows_statement(ids: models.QuerySet, at: datetime.datetime, *, note: str = "") -> tuple[str, list]:
    """The INSERT ... SELECT that writes one "created" entry per row of `ids` (a values_list("id", flat=True)
    queryset of an audited model): the ids never travel to Python. The entries hold no field values (the
    record as created is the import's row; later changes keep their old values)."""
    audited = _audited[ids.model]
    actor = _import_actor(note)
    connection = connections[ids.db]
    quote = connection.ops.quote_name
    select, params = ids.query.sql_with_params()
    columns = ("at", "action", "model", "object_id", "object_repr", "actor_id", "actor_label", "source", "note")
    table = quote(AuditEntry._meta.db_table)
    sql = (
        f"INSERT INTO {table} ({', '.join(quote(column) for column in columns)}) "
        f"SELECT %s, %s, %s, created.{quote('id')}, '', %s, %s, %s, %s FROM ({select}) AS created"
    )
    values = [connection.ops.adapt_datetimefield_value(at), Action.CREATE.value, audited.label]
    return sql, [*values, actor.user_id, actor.label, actor.source, actor.note, *params]
