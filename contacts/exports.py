"""CSV layouts of the contact lists: for people, and the import format of companies, contacts and interactions."""

from crm_project.exports import Column, CsvFormat, email_of, name_of, person_of, record_ref, ref

# For people ---------------------------------------------------------------------------------------

CONTACT_LIST = CsvFormat(
    name="contacts",
    columns=(
        Column("First name", "first_name"),
        Column("Last name", "last_name"),
        Column("E-mail", "email"),
        Column("Phone", "phone"),
        Column("Company", "company.name"),
        Column("Job title", "job_title"),
        Column("Region", "region"),
        Column("Industry", "effective_industry"),
        Column("Channel", "channel.name"),
        Column("Owner", person_of("owner")),
        Column("Status", "customer_status"),
        Column("Customer since", "customer_since"),
        Column("Churned at", "churned_at"),
        Column("Opted out of e-mail", "email_opt_out"),
        Column("Last touch", "last_interaction_at"),
        Column("Created", "created_at"),
        Column("External id", "external_id"),
    ),
)

COMPANY_LIST = CsvFormat(
    name="companies",
    columns=(
        Column("Name", "name"),
        Column("Domain", "domain"),
        Column("Industry", "industry"),
        Column("Size", "size_band"),
        Column("Region", "region"),
        Column("Owner", person_of("owner")),
        Column("Contacts", lambda company: company.contact_count or 0),
        Column("Created", "created_at"),
        Column("External id", "external_id"),
    ),
)

# The import format (manage.py import_records <kind>) ----------------------------------------------

COMPANIES_IMPORT = CsvFormat(
    name="companies",
    raw=True,
    select_related=("owner",),
    columns=(
        Column("external_id", record_ref),
        "name",
        "domain",
        "industry",
        Column("size", "size_band"),
        "region",
        Column("owner_email", email_of("owner")),
    ),
)

CONTACTS_IMPORT = CsvFormat(
    name="contacts",
    raw=True,
    select_related=("company", "channel", "owner"),
    columns=(
        Column("external_id", record_ref),
        "first_name",
        "last_name",
        "email",
        "phone",
        Column("company", ref("company")),
        "region",
        "industry",
        Column("channel", name_of("channel")),
        Column("owner_email", email_of("owner")),
        "created_at",
        "customer_since",
        "churned_at",
        Column("opted_out", "email_opt_out"),
    ),
)

INTERACTIONS_IMPORT = CsvFormat(
    name="interactions",
    raw=True,
    select_related=("contact", "user"),
    columns=(
        Column("external_id", record_ref),
        Column("contact", ref("contact")),
        "kind",
        "direction",
        "occurred_at",
        Column("user_email", email_of("user")),
        "summary",
    ),
)
