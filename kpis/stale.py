"""Changes to records mark the KPI periods they touch as stale, after commit.

The next periodic refresh recomputes every period from the earliest mark on. Marks come from
model signals (any save or delete, from a page, the API, the admin or a service), from the
history listener the import calls after a bulk load (with the tables it wrote), and from
`audit.bulk_update` (bulk writes send no signals).

A change to what labels other records' segments (a contact's region labels its orders, a channel's name
every contact of it) relabels records of any date: it marks all history (`ALL_HISTORY`), which the refresh
reads as "from the first record"; for a contact, from the earliest date of its own records.

A mark names the table of the record that changed (the labelling record's, for a relabel: the KPIs read the
labels through it); the refresh recomputes from it only the KPIs that read that table (`Kpi.reads`). An import
marks the tables it wrote; marks of no table (seed_demo) concern every KPI.
"""

import datetime
import logging
from functools import partial

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_init, post_save

from contacts.registry import ALL_HISTORY

# model label -> the timestamps and dates of a record that decide which periods it counts in
TRACKED = {
    "contacts.Contact": ("created_at", "customer_since", "churned_at"),
    "contacts.Interaction": ("occurred_at",),
    "sales.Spend": ("spent_on",),
    "sales.Lead": ("created_at", "converted_at"),
    "sales.Deal": ("created_at", "closed_at"),
    "sales.Order": ("ordered_at",),
    "sales.Subscription": ("starts_on", "ends_on"),
    "support.Ticket": ("created_at", "first_response_at", "resolved_at"),
    "surveys.Invitation": ("sent_at",),
    "surveys.Response": ("submitted_at",),
}
# Fields of tracked records that no KPI reads: a bulk update of these alone marks nothing (closing resolved
# tickets every day would otherwise recompute every period since the oldest of them was opened).
UNREAD = {"support.Ticket": {"status", "closed_at"}}
ALWAYS_UNREAD = {"updated_at"}
ORIGINAL = "_kpi_earliest"
# model label -> the fields (attnames) that label other records' segments: the KPIs' joins in `kpis.sql`.
RELABELS = {
    "contacts.Contact": ("region", "industry", "channel_id", "owner_id", "company_id"),
    "contacts.Company": ("industry",),
    "contacts.Channel": ("name",),
    "sales.Campaign": ("name", "channel_id"),
    "sales.Pipeline": ("name",),
    "surveys.Survey": ("name",),
    settings.AUTH_USER_MODEL: ("username",),
}
LABELS = "_kpi_labels"
# What a contact's labels label besides the contact itself (`kpis.sql.contact_segments` is joined to these):
# model label -> (the lookup of its contact, its dates). A contact moved to another segment changes history
# from the earliest of its own dates and theirs, not from the first record of all.
CONTACT_LABELLED = {
    "sales.Order": ("contact_id", ("ordered_at",)),
    "sales.Subscription": ("contact_id", ("starts_on", "ends_on")),
    "sales.Deal": ("contact_id", ("created_at", "closed_at")),
    "contacts.Interaction": ("contact_id", ("occurred_at",)),
    "surveys.Invitation": ("contact_id", ("sent_at",)),
    "surveys.Response": ("invitation__contact_id", ("submitted_at",)),
}
logger = logging.getLogger(__name__)


def _earliest(instance, fields) -> datetime.datetime | None:
    from kpis.periods import local_midnight

    moments = []
    for name in fields:
        # Loaded fields only: reading a deferred one (.only(), refresh_from_db(fields=...)) would run a query
        # per instance, and from post_init load another instance, and so on without end.
        value = instance.__dict__.get(name)
        if value is None:
            continue
        if not isinstance(value, datetime.datetime):
            value = local_midnight(value)
        moments.append(value)
    return min(moments) if moments else None


def _remember(sender, instance, fields, **kwargs):
    if instance.pk is not None:
        setattr(instance, ORIGINAL, _earliest(instance, fields))


def _changed(sender, instance, fields, **kwargs):
    from kpis.services import kpis_mark_stale

    candidates = [moment for moment in (_earliest(instance, fields), getattr(instance, ORIGINAL, None)) if moment]
    if not candidates:
        return
    since = min(candidates)
    setattr(instance, ORIGINAL, _earliest(instance, fields))
    transaction.on_commit(partial(kpis_mark_stale, since=since, reason=sender._meta.label, table=sender._meta.db_table))


def _labels(instance, fields) -> tuple | None:
    """The labelling fields' values, None when one is not loaded (deferred)."""
    values = instance.__dict__
    if any(name not in values for name in fields):
        return None
    return tuple(values[name] for name in fields)


def _remember_labels(sender, instance, fields, **kwargs):
    if instance.pk is not None:
        setattr(instance, LABELS, _labels(instance, fields))


def _relabeled(sender, instance, fields, **kwargs):
    """A record that labels others changed those labels (or, deleted, left them to their empty label)."""
    from kpis.services import kpis_mark_stale

    before = getattr(instance, LABELS, None)
    if kwargs.get("created") or before is None:
        setattr(instance, LABELS, _labels(instance, fields))
        return
    if "created" in kwargs:  # saved
        after = _labels(instance, fields)
        setattr(instance, LABELS, after)
        if after == before:
            return
    reason = f"{sender._meta.label} labels"
    if sender._meta.label == "contacts.Contact":
        transaction.on_commit(partial(contacts_relabeled, [instance.pk], reason=reason))
    else:
        transaction.on_commit(partial(kpis_mark_stale, since=ALL_HISTORY, reason=reason, table=sender._meta.db_table))


def contacts_relabeled(ids, *, reason: str) -> None:
    """Contacts moved to other segments: mark from the earliest date of theirs and of the records they label
    (`CONTACT_LABELLED`), a few indexed MIN() queries."""
    from django.db.models import Min

    from kpis.periods import local_midnight
    from kpis.services import kpis_mark_stale

    candidates = [(apps.get_model("contacts.Contact"), "pk", TRACKED["contacts.Contact"])]
    candidates += [(apps.get_model(label), lookup, dates) for label, (lookup, dates) in CONTACT_LABELLED.items()]
    moments = []
    for model, lookup, dates in candidates:
        found = model._base_manager.filter(**{f"{lookup}__in": ids}).aggregate(*(Min(name) for name in dates))
        for value in found.values():
            if value is not None:
                moments.append(value if isinstance(value, datetime.datetime) else local_midnight(value))
    if moments:  # what it labels is read through its own table (`kpis.sql.contact_segments`)
        kpis_mark_stale(since=min(moments), reason=reason, table=candidates[0][0]._meta.db_table)


def records_changed(objects, changed_fields) -> None:
    """Records whose `changed_fields` a bulk update changed, which sends no signals (leads reassigned,
    subscriptions expired): their periods are marked stale after commit, from the earliest moment any of them
    counts in, as saving each would (all history when those fields label other records); unless no KPI reads
    those fields."""
    if not objects:
        return
    label = type(objects[0])._meta.label
    model = type(objects[0])
    relabels = {model._meta.get_field(name).attname for name in changed_fields} & set(RELABELS.get(label, ()))
    if relabels:
        from kpis.services import kpis_mark_stale

        reason = f"{label} labels (bulk)"
        if label == "contacts.Contact":
            transaction.on_commit(partial(contacts_relabeled, [record.pk for record in objects], reason=reason))
        else:
            transaction.on_commit(
                partial(kpis_mark_stale, since=ALL_HISTORY, reason=reason, table=model._meta.db_table)
            )
        return
    fields = TRACKED.get(label)
    if not fields or set(changed_fields) <= UNREAD.get(label, set()) | ALWAYS_UNREAD:
        return
    moments = [moment for record in objects if (moment := _earliest(record, fields)) is not None]
    if moments:
        from kpis.services import kpis_mark_stale

        transaction.on_commit(
            partial(kpis_mark_stale, since=min(moments), reason=f"{label} (bulk)", table=model._meta.db_table)
        )


def history_changed(since, tables=()) -> None:
    """The import's listener: bulk-loaded history from `since` on, in `tables` (none named: any). Marks it stale
    for the KPIs that read those tables and asks for a refresh now (in-process without a broker), so the KPI
    pages reflect an import at once rather than at the next beat."""
    from kpis.services import kpis_mark_stale
    from kpis.tasks import refresh_open_periods

    for table in tables or ("",):
        kpis_mark_stale(since=since, reason="import", table=table)
    try:
        refresh_open_periods.delay()
    except Exception:  # broker down: the mark stays, and the next periodic refresh picks it up
        logger.warning("Could not queue a KPI refresh after an import", exc_info=True)


def connect() -> None:
    for label, fields in RELABELS.items():
        model = apps.get_model(label)
        uid = f"kpis-relabel-{label}"
        init, changed = partial(_remember_labels, fields=fields), partial(_relabeled, fields=fields)
        post_init.connect(init, sender=model, weak=False, dispatch_uid=uid + "-init")
        post_save.connect(changed, sender=model, weak=False, dispatch_uid=uid + "-save")
        if label != "contacts.Contact":  # what a contact labels is deleted with it or refuses its deletion
            post_delete.connect(changed, sender=model, weak=False, dispatch_uid=uid + "-delete")
    for label, fields in TRACKED.items():
        model = apps.get_model(label)
        uid = f"kpis-stale-{label}"
        post_init.connect(partial(_remember, fields=fields), sender=model, weak=False, dispatch_uid=uid + "-init")
        post_save.connect(partial(_changed, fields=fields), sender=model, weak=False, dispatch_uid=uid + "-save")
        post_delete.connect(partial(_changed, fields=fields), sender=model, weak=False, dispatch_uid=uid + "-delete")
