"""Helpers for the export tests: read a streamed CSV answer, and the import format of issue 6."""

import csv
import io

# A cell starting with one of these is run by spreadsheets: exports for people neutralise them.
FORMULA_TRIGGERS = ['=HYPERLINK("http://evil.example","x")', "+1+2", "-2+3", "@SUM(A1)", "\tcmd", "\r=1+1"]

# The columns of `import_records KIND` (issue 6), in the order.
IMPORT_COLUMNS = {
    "companies": ["external_id", "name", "domain", "industry", "size", "region", "owner_email"],
    "contacts": [
        "external_id", "first_name", "last_name", "email", "phone", "company", "region", "industry", "channel",
        "owner_email", "created_at", "customer_since", "churned_at", "opted_out",
    ],
    "interactions": ["external_id", "contact", "kind", "direction", "occurred_at", "user_email", "summary"],
    "campaigns": ["external_id", "name", "channel", "starts_on", "ends_on"],
    "spend": ["external_id", "spent_on", "amount", "category", "channel", "campaign"],
    "leads": [
        "external_id", "first_name", "last_name", "email", "company_name", "channel", "campaign", "owner_email",
        "status", "created_at", "converted_at", "contact",
    ],
    "deals": [
        "external_id", "title", "contact", "company", "owner_email", "channel", "kind", "amount", "pipeline", "stage",
        "status", "created_at", "closed_at", "lost_reason", "lead",
    ],
    "orders": ["external_id", "contact", "deal", "ordered_at", "amount"],
    "subscriptions": ["external_id", "contact", "plan", "amount", "starts_on", "ends_on", "outcome", "renews"],
    "tickets": [
        "external_id", "contact", "subject", "channel", "priority", "status", "assignee_email", "created_at",
        "first_response_at", "resolved_at", "agent_replies", "reopened_count",
    ],
    "survey_responses": [
        "external_id", "survey", "kind", "contact", "ticket", "sent_at", "submitted_at", "score", "comment",
    ],
}  # fmt: skip


def csv_text(response) -> str:
    """The body of a streamed CSV answer (read here, so the queries it runs count where this is called)."""
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="')
    assert response.streaming
    return b"".join(response.streaming_content).decode("utf-8")


def csv_table(response) -> tuple[list[str], list[list[str]]]:
    """(header, rows); a byte order mark, if any, is not part of the first header."""
    header, *rows = list(csv.reader(io.StringIO(csv_text(response).removeprefix("\ufeff"))))
    return header, rows


def csv_records(response) -> list[dict[str, str]]:
    header, rows = csv_table(response)
    return [dict(zip(header, row, strict=True)) for row in rows]
