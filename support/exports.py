"""CSV layouts of the ticket lists: for people, and the import format of tickets."""

from crm_project.exports import Column, CsvFormat, email_of, label_of, person_of, record_ref, ref


def _next_due_at(ticket):
    """The deadline that matters now: the first response until answered, then the resolution."""
    return ticket.first_response_due_at if ticket.first_response_at is None else ticket.resolution_due_at


# For people ---------------------------------------------------------------------------------------

TICKET_LIST = CsvFormat(
    name="tickets",
    columns=(
        Column("Ticket", "pk"),
        Column("Subject", "subject"),
        Column("Customer", "contact.full_name"),
        Column("E-mail", "contact.email"),
        Column("Company", "contact.company.name"),
        Column("Channel", label_of("channel")),
        Column("Priority", label_of("priority")),
        Column("Status", label_of("status")),
        Column("Assignee", person_of("assignee")),
        Column("Created", "created_at"),
        Column("First response", "first_response_at"),
        Column("Resolved", "resolved_at"),
        Column("Closed", "closed_at"),
        Column("Agent replies", "agent_replies"),
        Column("Reopened", "reopened_count"),
        Column("Next deadline", _next_due_at),
        Column("First response within SLA", "first_response_met_sla"),
        Column("External id", "external_id"),
    ),
)

# The import format (manage.py import_records tickets) ---------------------------------------------

TICKETS_IMPORT = CsvFormat(
    name="tickets",
    raw=True,
    select_related=("contact", "assignee"),
    columns=(
        Column("external_id", record_ref),
        Column("contact", ref("contact")),
        "subject",
        "channel",
        "priority",
        "status",
        Column("assignee_email", email_of("assignee")),
        "created_at",
        "first_response_at",
        "resolved_at",
        "agent_replies",
        "reopened_count",
    ),
)
