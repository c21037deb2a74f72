"""Restoring a deleted record from the audit trail (administrators)."""

from collections import Counter, defaultdict

from django.apps import apps
from django.core import serializers
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from crm_project.services import refuse

from . import context, recording
from .models import AuditEntry


def _deserialized(items: list[dict]) -> list[models.Model]:
    # The snapshot's values are JSON (times as ISO text): the python deserializer reads them through each field.
    return [item.object for item in serializers.deserialize("python", items, ignorenonexistent=True)]


def _missing_targets(objects: list[models.Model]) -> set[tuple[type, object]]:
    """The records these objects refer to that are gone (and are not among them): {(model, id)}, one query
    per model referred to."""
    coming = {(type(obj), obj.pk) for obj in objects}
    wanted = defaultdict(set)
    for obj in objects:
        for field in obj._meta.concrete_fields:
            value = getattr(obj, field.attname) if field.is_relation else None
            if value is not None and (field.related_model, value) not in coming:
                wanted[field.related_model].add(value)
    missing = set()
    for model, ids in wanted.items():
        found = set(model._base_manager.filter(pk__in=ids).values_list("pk", flat=True))
        missing.update((model, pk) for pk in ids - found)
    return missing


def _unlink_missing(obj: models.Model, missing: set) -> tuple[list[str], list[str]]:
    """Empty the nullable references to records that are gone; name the required ones that are gone."""
    emptied, required = [], []
    for field in obj._meta.concrete_fields:
        if not field.is_relation:
            continue
        value = getattr(obj, field.attname)
        if value is None or (field.related_model, value) not in missing:
            continue
        if field.null:
            setattr(obj, field.attname, None)
            emptied.append(str(field.verbose_name))
        else:
            required.append(f"its {field.verbose_name} ({field.related_model._meta.verbose_name} {value})")
    return emptied, required


def _save_raw(obj: models.Model) -> None:
    """Insert the row as it was, id and all (no save() logic, no auto_now: the values are the snapshot's)."""
    obj.save_base(raw=True, force_insert=True)


def _saved(obj: models.Model) -> bool:
    """Put back a row that went with the record, unless it clashes with one made since (a unique value)."""
    try:
        with transaction.atomic():
            _save_raw(obj)
    except IntegrityError:
        return False
    return True


@transaction.atomic
def record_restore(*, entry: AuditEntry) -> models.Model:
    """Put a deleted record back with its id and fields, with the rows its deletion cascaded to (a contact's
    interactions, a ticket's messages ...), and point the records that lost their reference to it back at
    it (those that still have none). The restore is itself an entry of the trail; the deletion's entry
    is marked restored.

    Refused, with nothing written, when the record exists again, when a record it requires is gone (restore
    that one first), or when it would clash with a record made since (the same e-mail, the same external id).
    References to records that are gone and may be empty are emptied, and the entry says so; cascaded rows
    that cannot come back (they require a record that is gone) are left out and counted.
    """
    entry = AuditEntry.objects.select_for_update().get(pk=entry.pk)
    if entry.action != AuditEntry.Action.DELETE or not entry.snapshot:
        refuse("Only a deleted record can be restored.")
    if entry.restored_at is not None:
        when = timezone.localtime(entry.restored_at)
        refuse(f"This {entry.kind_label} was restored already, on {when:%Y-%m-%d %H:%M}.")
    model = apps.get_model(entry.model)
    if model._base_manager.filter(pk=entry.object_id).exists():
        refuse(f"A {entry.kind_label} with the id {entry.object_id} exists: there is nothing to restore.")

    record = _deserialized([entry.snapshot["record"]])[0]
    cascaded = _deserialized(entry.snapshot.get("cascaded", []))
    missing = _missing_targets([record, *cascaded])
    emptied, required = _unlink_missing(record, missing)
    if required:
        refuse(f"This {entry.kind_label} cannot be restored: {', '.join(required)} no longer exists. Restore it first.")
    try:
        record.validate_constraints()
        record.validate_unique()
    except ValidationError as error:
        refuse(f"This {entry.kind_label} cannot be restored: {' '.join(error.messages)}")
    try:
        with transaction.atomic():
            _save_raw(record)
    except IntegrityError as error:
        refuse(f"This {entry.kind_label} cannot be restored: {str(error).strip().splitlines()[0]}")

    # Parents come before the rows that depend on them (the order the deletion found them in); a row left
    # out takes the rows that require it along (their references would fail at the commit).
    came_back, left_out = Counter(), 0
    for obj in cascaded:
        _, required = _unlink_missing(obj, missing)
        if not required and _saved(obj):
            came_back[obj._meta.label_lower] += 1
        else:
            left_out += 1
            missing.add((type(obj), obj.pk))

    relinked = _relink(entry, record)
    _record_restore(entry, record, emptied, came_back, left_out, relinked)
    entry.restored_at = timezone.now()
    entry.save(update_fields=["restored_at"])
    return record


def _relink(entry: AuditEntry, record: models.Model) -> Counter:
    """Point the rows the deletion set to NULL back at the record, where they still have nothing."""
    relinked = Counter()
    for emptied in entry.snapshot.get("emptied", []):
        model = apps.get_model(emptied["model"])
        field = model._meta.get_field(emptied["field"])
        rows = model._base_manager.filter(pk__in=emptied["ids"], **{f"{field.attname}__isnull": True})
        ids = list(rows.values_list("pk", flat=True))
        if not ids:
            continue
        try:
            with transaction.atomic():
                model._base_manager.filter(pk__in=ids).update(**{field.attname: record.pk})
        except IntegrityError:  # a one-to-one taken meanwhile: leave them as they are
            continue
        relinked[emptied["model"]] += len(ids)
        from kpis.stale import records_changed  # here, not at the top: kpis reads every app, audit included

        records_changed(list(model._base_manager.filter(pk__in=ids)), [field.name])
        if recording.is_audited(model):
            recording.record_changes(
                model,
                [(pk, {field.name: [None, record.pk]}) for pk in ids],
                note=f"linked again to the restored {entry.kind_label} “{entry.object_repr}”",
            )
    return relinked


def _record_restore(entry, record, emptied, came_back, left_out, relinked) -> None:
    notes = [f"Deleted on {timezone.localtime(entry.at):%Y-%m-%d %H:%M} by {entry.actor_label}."]
    if came_back:
        notes.append(f"Back with it: {recording.counted(came_back)}.")
    if relinked:
        notes.append(f"Linked to it again: {recording.counted(relinked)}.")
    if emptied:
        notes.append(f"Emptied, as what they named is gone: {', '.join(emptied)}.")
    if left_out:
        notes.append(f"{left_out} row(s) that went with it could not come back.")
    actor = context.current()
    AuditEntry.objects.create(
        action=AuditEntry.Action.RESTORE,
        model=entry.model,
        object_id=record.pk,
        object_repr=entry.object_repr,
        actor_id=actor.user_id,
        actor_label=actor.label,
        source=actor.source,
        changes=recording.created_changes(record),
        note=" ".join(notes)[:500],
    )
