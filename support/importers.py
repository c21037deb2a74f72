"""The CSV import of tickets (see docs/import-format.md), registered in SupportConfig.ready().

Imported tickets keep their history as given (first response, resolution, agent replies, reopenings):
nothing is recomputed from messages, which an import does not bring. Their SLA targets are set from
their priority's policy, as when a ticket is opened, so that the SLA KPI counts them.
"""

from contacts.importers import check_order, contact_column, external_id_column, owner_column
from contacts.importing import Choice, Column, DateTime, ImportSpec, Integer, Text

from . import sla
from .models import Priority, SlaPolicy, Ticket

OPEN_STATUSES = (Ticket.Status.NEW, Ticket.Status.OPEN, Ticket.Status.PENDING)


class TicketImporter(ImportSpec):
    kind = "tickets"
    model = Ticket
    description = (
        "Help desk tickets with their history. The SLA targets come from the priority's SLA policy, counted "
        "from created_at."
    )
    columns = (
        external_id_column(),
        contact_column(),
        Column("subject", Text(250), required=True, field="subject"),
        Column("channel", Choice(Ticket.Channel), required=True, field="channel"),
        Column("priority", Choice(Priority), required=True, field="priority"),
        Column("status", Choice(Ticket.Status), required=True, field="status"),
        owner_column("assignee_email", "assignee_id"),
        Column("created_at", DateTime(), required=True, field="created_at"),
        Column("first_response_at", DateTime(), field="first_response_at"),
        Column("resolved_at", DateTime(), field="resolved_at", help="the latest resolution"),
        Column("agent_replies", Integer(empty=0), field="agent_replies", help="empty: 0"),
        Column("reopened_count", Integer(empty=0), field="reopened_count", help="empty: 0"),
    )
    derived_fields = ("closed_at", "first_response_due_at", "resolution_due_at")
    history_fields = ("created_at", "first_response_at", "resolved_at")
    rules = (
        "a resolved or closed ticket needs resolved_at; a new, open or pending one has none",
        "first_response_at and resolved_at are not before created_at",
        "a closed ticket is taken as closed when it was resolved",
    )

    def check_row(self, row, run) -> None:
        status = row["status"]
        if status and status not in OPEN_STATUSES and row.absent("resolved_at"):
            run.error(row, "resolved_at", f"a {status} ticket needs resolved_at")
        elif status in OPEN_STATUSES and row.given("resolved_at"):
            run.error(row, "resolved_at", f"a {status} ticket has no resolved_at (it is not resolved)")
        check_order(run, row, "created_at", "first_response_at")
        check_order(run, row, "created_at", "resolved_at")

    def derive(self, row, record, run) -> None:
        if "sla" not in run.cache:
            policies = {policy.priority: policy for policy in SlaPolicy.objects.all()}
            run.cache["sla"] = (policies, sla.business_hours())
        policies, hours = run.cache["sla"]
        record["closed_at"] = row["resolved_at"] if row["status"] == Ticket.Status.CLOSED else None
        policy = policies.get(row["priority"])
        created = row["created_at"]
        record["first_response_due_at"] = sla.add_hours(created, policy.first_response_hours, hours) if policy else None
        record["resolution_due_at"] = sla.add_hours(created, policy.resolution_hours, hours) if policy else None

    def carry_over(self, record, old) -> None:
        # The file has no close time: a ticket closed already, and resolved when it was, keeps the one it has.
        same_resolution = old["resolved_at"] == record["resolved_at"]
        if record["status"] == Ticket.Status.CLOSED and old["closed_at"] is not None and same_resolution:
            record["closed_at"] = old["closed_at"]
