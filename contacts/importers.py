"""The CSV import of companies, contacts and interactions (see docs/import-format.md).

Registered with `contacts.registry.register_importer` in ContactsConfig.ready().
"""

from django.db.models import Min
from django.db.models.functions import Lower

from crm_project.exports import made_here_ref

from .importing import (
    Boolean,
    ByName,
    Choice,
    Column,
    DateTime,
    Email,
    ExternalIdRef,
    ImportSpec,
    Text,
    UserByEmail,
)
from .models import Channel, Company, Contact, Interaction


def external_id_column() -> Column:
    return Column("external_id", Text(100), required=True, field="external_id")


def channel_column() -> Column:
    return Column("channel", ByName(Channel, "channel"), field="channel_id")


def owner_column(name: str = "owner_email", field: str = "owner_id") -> Column:
    return Column(name, UserByEmail(), field=field)


def contact_column(*, required: bool = False) -> Column:
    return Column("contact", ExternalIdRef(Contact, "contacts"), required=required, field="contact_id")


def check_order(run, row, earlier: str, later: str, *, strictly: bool = False) -> None:
    """`later` cannot come before `earlier` (nor on it, `strictly`), when both are given and readable."""
    if row[later] is None:  # mostly: the later time is often not given
        return
    if row.given(earlier, later) and (row[later] <= row[earlier] if strictly else row[later] < row[earlier]):
        word = "on or before" if strictly else "before"
        run.error(row, later, f"{later} ({row[later]}) is {word} {earlier} ({row[earlier]})")


def check_unique(run, rows, column: str, model, label: str) -> None:
    """A value that belongs to one record (compared case-insensitively): not twice in the file, nor held by
    another record (of another external_id) already. One query per batch."""
    lines = run.memo.setdefault(f"unique:{column}", {})
    first = {}
    for row in rows:
        value = row[column]
        if not value or column in row.bad_columns:
            continue
        key = value.lower()
        if key in lines:
            run.error(row, column, f"{value!r} is already on line {lines[key]}: it must be unique")
            continue
        lines[key] = row.line
        first[key] = row
    if not first:
        return
    taken = (
        model._default_manager.annotate(value_lower=Lower(column))
        .filter(value_lower__any_of=first)
        .exclude(**{column: ""})  # the condition of the unique indexes on lower(column): so that they serve
        .order_by()
        .values_list("value_lower", "external_id", "id")
    )
    for key, external_id, pk in taken:
        row = first[key]
        same = external_id == row["external_id"] or (not external_id and row["external_id"] == made_here_ref(model, pk))
        if not same:
            holder = f"external_id {external_id!r}" if external_id else f"id {pk}, without external_id"
            run.error(row, column, f"another {label} ({holder}) already has the {column} {row[column]!r}")


class CompanyImporter(ImportSpec):
    kind = "companies"
    model = Company
    description = "Companies (accounts). Contacts and deals refer to them by external_id."
    columns = (
        external_id_column(),
        Column("name", Text(200), required=True, field="name"),
        Column("domain", Text(253, lower=True), field="domain", help="web domain, e.g. example.com"),
        Column("industry", Text(100), field="industry"),
        Column("size", Choice(Company.SizeBand), field="size_band", help="employees"),
        Column("region", Text(100), field="region"),
        owner_column(),
    )
    relabels = ("industry",)  # the industry of its contacts that have none

    def after_write(self, rows, ids, run) -> None:
        # A company's industry is its contacts' when they have none: their history may change with it.
        earliest = Contact.objects.filter(company_id__any_of=ids.values()).aggregate(first=Min("created_at"))["first"]
        run.touch(earliest)


class ContactImporter(ImportSpec):
    kind = "contacts"
    model = Contact
    description = (
        "People: prospects and customers. A contact is a customer from customer_since until churned_at; "
        "both are kept as given."
    )
    columns = (
        external_id_column(),
        Column("first_name", Text(100), field="first_name"),
        Column("last_name", Text(100), field="last_name"),
        Column("email", Email(), field="email", help="unique among contacts"),
        Column("phone", Text(50), field="phone"),
        Column("company", ExternalIdRef(Company, "companies"), field="company_id"),
        Column("region", Text(100), field="region"),
        Column("industry", Text(100), field="industry", help="empty: the company's"),
        channel_column(),
        owner_column(),
        Column("created_at", DateTime(), required=True, field="created_at"),
        Column("customer_since", DateTime(), field="customer_since"),
        Column("churned_at", DateTime(), field="churned_at"),
        Column("opted_out", Boolean(), field="email_opt_out", help="opted out of e-mail"),
    )
    relabels = ("company_id", "region", "industry", "channel_id", "owner_id")  # its orders, tickets ... segments
    rules = (
        "a contact has a first name, a last name or an e-mail",
        "churned_at needs customer_since, and is not before it",
        "an e-mail belongs to one contact: not twice in the file, not another contact's already",
    )

    def check_row(self, row, run) -> None:
        named = row["first_name"] or row["last_name"] or row["email"]  # mostly, and then nothing else to see
        if not named and all(row.absent(name) for name in ("first_name", "last_name", "email")):
            run.error(row, "first_name", "give the contact a first name, a last name or an e-mail")
        if row["churned_at"] is None:
            return
        if row.given("churned_at") and row.absent("customer_since"):
            run.error(row, "churned_at", "a contact can only churn after becoming a customer: customer_since is empty")
        check_order(run, row, "customer_since", "churned_at")

    def check_batch(self, rows, run) -> None:
        check_unique(run, rows, "email", Contact, "contact")


class InteractionImporter(ImportSpec):
    kind = "interactions"
    model = Interaction
    description = "Calls, e-mails, meetings, notes, web visits and app sessions logged with contacts."
    columns = (
        external_id_column(),
        contact_column(required=True),
        Column("kind", Choice(Interaction.Kind), required=True, field="kind"),
        Column("direction", Choice(Interaction.Direction), field="direction"),
        Column("occurred_at", DateTime(), required=True, field="occurred_at"),
        owner_column("user_email", "user_id"),
        Column("summary", Text(10000), field="summary"),
    )
