"""CSV layouts of the sales lists: for people, and the import format of campaigns, spend, leads, deals,
orders and subscriptions."""

from crm_project.exports import Column, CsvFormat, email_of, label_of, money, name_of, person_of, record_ref, ref


def _renewed(subscription) -> str:
    renewed = subscription.renews
    return f"{renewed.plan}, {renewed.starts_on} to {renewed.ends_on}" if renewed else ""


# For people ---------------------------------------------------------------------------------------

LEAD_LIST = CsvFormat(
    name="leads",
    columns=(
        Column("Created", "created_at"),
        Column("First name", "first_name"),
        Column("Last name", "last_name"),
        Column("E-mail", "email"),
        Column("Phone", "phone"),
        Column("Company", "company_name"),
        Column("Status", label_of("status")),
        Column("Channel", "channel.name"),
        Column("Campaign", "campaign.name"),
        Column("Owner", person_of("owner")),
        Column("Converted at", "converted_at"),
        Column("Contact", "contact.full_name"),
        Column("Disqualified because", "disqualified_reason"),
        Column("External id", "external_id"),
    ),
)

DEAL_LIST = CsvFormat(
    name="deals",
    columns=(
        Column("Title", "title"),
        Column("Contact", "contact.full_name"),
        Column("Company", "company.name"),
        Column("Owner", person_of("owner")),
        Column("Channel", "channel.name"),
        Column("Kind", label_of("kind")),
        Column("Amount", "amount"),
        Column("Pipeline", "pipeline.name"),
        Column("Stage", "stage.name"),
        Column("Probability %", "stage.probability"),
        Column("Weighted amount", "weighted_amount"),
        Column("Status", label_of("status")),
        Column("Expected close", "expected_close_date"),
        Column("Created", "created_at"),
        Column("Closed", "closed_at"),
        Column("Lost because", "lost_reason"),
        Column("External id", "external_id"),
    ),
)

ORDER_LIST = CsvFormat(
    name="orders",
    columns=(
        Column("Ordered at", "ordered_at"),
        Column("Contact", "contact.full_name"),
        Column("E-mail", "contact.email"),
        Column("Deal", "deal.title"),
        Column("Amount", "amount"),
        Column("Description", "description"),
        Column("Recorded by", person_of("created_by")),
        Column("External id", "external_id"),
    ),
)

SUBSCRIPTION_LIST = CsvFormat(
    name="subscriptions",
    columns=(
        Column("Contact", "contact.full_name"),
        Column("E-mail", "contact.email"),
        Column("Plan", "plan"),
        Column("Amount", "amount"),
        Column("Starts on", "starts_on"),
        Column("Ends on", "ends_on"),
        Column("Outcome", label_of("outcome")),
        Column("Renews", _renewed),
        Column("Cancelled at", "cancelled_at"),
        Column("External id", "external_id"),
    ),
)

CAMPAIGN_LIST = CsvFormat(
    name="campaigns",
    columns=(
        Column("Name", "name"),
        Column("Channel", "channel.name"),
        Column("Starts on", "starts_on"),
        Column("Ends on", "ends_on"),
        Column("Budget", "budget"),
        Column("Spend", money("total_spend")),
        Column("Leads", "lead_count"),
        Column("External id", "external_id"),
    ),
)

SPEND_LIST = CsvFormat(
    name="spend",
    columns=(
        Column("Spent on", "spent_on"),
        Column("Amount", "amount"),
        Column("Category", label_of("category")),
        Column("Channel", "channel.name"),
        Column("Campaign", "campaign.name"),
        Column("Description", "description"),
        Column("External id", "external_id"),
    ),
)

# The import format (manage.py import_records <kind>) ----------------------------------------------

CAMPAIGNS_IMPORT = CsvFormat(
    name="campaigns",
    raw=True,
    select_related=("channel",),
    columns=(
        Column("external_id", record_ref),
        "name",
        Column("channel", name_of("channel")),
        "starts_on",
        "ends_on",
    ),
)

SPEND_IMPORT = CsvFormat(
    name="spend",
    raw=True,
    select_related=("channel", "campaign"),
    columns=(
        Column("external_id", record_ref),
        "spent_on",
        "amount",
        "category",
        Column("channel", name_of("channel")),
        Column("campaign", ref("campaign")),
    ),
)

LEADS_IMPORT = CsvFormat(
    name="leads",
    raw=True,
    select_related=("channel", "campaign", "owner", "contact"),
    columns=(
        Column("external_id", record_ref),
        "first_name",
        "last_name",
        "email",
        "company_name",
        Column("channel", name_of("channel")),
        Column("campaign", ref("campaign")),
        Column("owner_email", email_of("owner")),
        "status",
        "created_at",
        "converted_at",
        Column("contact", ref("contact")),
    ),
)

DEALS_IMPORT = CsvFormat(
    name="deals",
    raw=True,
    select_related=("contact", "company", "owner", "channel", "pipeline", "stage", "lead"),
    columns=(
        Column("external_id", record_ref),
        "title",
        Column("contact", ref("contact")),
        Column("company", ref("company")),
        Column("owner_email", email_of("owner")),
        Column("channel", name_of("channel")),
        "kind",
        "amount",
        Column("pipeline", name_of("pipeline")),
        Column("stage", name_of("stage")),
        "status",
        "created_at",
        "closed_at",
        "lost_reason",
        Column("lead", ref("lead")),
    ),
)

ORDERS_IMPORT = CsvFormat(
    name="orders",
    raw=True,
    select_related=("contact", "deal"),
    columns=(
        Column("external_id", record_ref),
        Column("contact", ref("contact")),
        Column("deal", ref("deal")),
        "ordered_at",
        "amount",
    ),
)

SUBSCRIPTIONS_IMPORT = CsvFormat(
    name="subscriptions",
    raw=True,
    select_related=("contact", "renews"),
    order_by=("starts_on", "id"),  # a subscription before its renewal, which names it
    columns=(
        Column("external_id", record_ref),
        Column("contact", ref("contact")),
        "plan",
        "amount",
        "starts_on",
        "ends_on",
        "outcome",
        Column("renews", ref("renews")),
    ),
)
