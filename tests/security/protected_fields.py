"""Fields no API client may write: test_serializers.py checks every serializer of the API against this list.

A field is protected by its name or by the model attribute it is read from (`source`), so that a writable
`opened_by_id` with `source="opened_by"` is caught as well as `opened_by`.
"""

# Who did it: the services take the person from the request, never from the input.
AUTHORSHIP = {"created_by", "opened_by", "author", "author_kind", "changed_by", "actor", "updated_by", "user"}

# Times the services keep from what happened (a win, the first reply, a conversion ...).
SERVICE_TIMES = {
    "created_at",
    "updated_at",
    "customer_since",
    "churned_at",
    "converted_at",
    "won_at",
    "closed_at",
    "resolved_at",
    "first_response_at",
    "first_response_due_at",
    "resolution_due_at",
    "stage_changed_at",
    "cancelled_at",
    "submitted_at",
    "sent_at",
    "opened_at",
    "expires_at",
    "computed_at",
    "started_at",
    "finished_at",
}

# State and counters that only the workflow actions change, and keys only the import sets.
SERVICE_STATE = {
    "status",
    "outcome",
    "renews",
    "renewed_by",
    "lost_reason",
    "disqualified_reason",
    "agent_replies",
    "reopened_count",
    "external_id",
    "token",
    "token_hash",
    "send_error",
}

# Computed for reading (annotations, properties, names of related records).
COMPUTED = {
    "contact_count",
    "last_interaction_at",
    "total_spend",
    "lead_count",
    "stage_name",
    "contact_name",
    "survey_name",
    "response_count",
    "score_sample_size",
    "recent_responses",
    "response_rate",
    "next_due_at",
    "is_overdue",
    "first_response_hours",
    "resolution_hours",
    "first_response_met_sla",
    "band",
}

PROTECTED = AUTHORSHIP | SERVICE_TIMES | SERVICE_STATE | COMPUTED

# Per model: fields whose name means something else elsewhere (a lead's company_name is typed in).
PROTECTED_BY_MODEL = {
    "contacts.contact": {"company_name"},  # the company's name, read through `company`
    "sales.lead": {"contact"},  # set by the conversion
    "sales.deal": {"company", "lead"},  # the contact's company; the lead it was converted from
    "surveys.response": {"score", "comment", "kind", "invitation"},  # the customer's answer, on the public page
    "surveys.survey": {"score"},  # the NPS or CSAT of its answers
}

# Not protected, on purpose: `owner_id` (contacts, companies, leads, deals) and `assignee_id` (a new ticket;
# the service refuses who may not take tickets) assign a record to someone, as the pages' owner selects do.
# Pipeline and stage are chosen when a deal opens (the service refuses a closed stage) and ignored on edits.
