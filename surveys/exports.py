"""CSV layouts of the survey lists: for people, and the import format of survey responses."""

from django.db.models import Q

from crm_project.exports import Column, CsvFormat, label_of, name_of, record_ref, ref


def _response(invitation):
    return getattr(invitation, "response", None)  # None when the invitation has no answer


def _answer(field: str):
    return lambda invitation: getattr(_response(invitation), field, None)


# For people ---------------------------------------------------------------------------------------

SURVEY_LIST = CsvFormat(
    name="surveys",
    columns=(
        Column("Name", "name"),
        Column("Kind", label_of("kind")),
        Column("Question", "question"),
        Column("Active", "is_active"),
        Column("Sent after a resolved ticket", "send_on_ticket_resolved"),
        Column("Answers", "response_count"),
        Column("Invitations sent", "invitation_count"),
        Column("Score (90 days)", "score"),
        Column("Answers in the score", "recent_responses"),
        Column("Response rate % (90 days)", "response_rate"),
        Column("Created", "created_at"),
    ),
)

RESPONSE_LIST = CsvFormat(
    name="survey-responses",
    columns=(
        Column("Answered", "submitted_at"),
        Column("Survey", "invitation.survey.name"),
        Column("Kind", label_of("kind")),
        Column("Score", "score"),
        Column("Band", "band"),
        Column("Comment", "comment"),
        Column("Contact", "invitation.contact.full_name"),
        Column("E-mail", "invitation.contact.email"),
        Column("Company", "invitation.contact.company.name"),
        Column("Channel", "invitation.contact.channel.name"),
        Column("Region", "invitation.contact.region"),
        Column("Industry", "invitation.contact.effective_industry"),
        Column("Ticket", "invitation.ticket.subject"),
        Column("Changed", "updated_at"),
    ),
)

# The import format (manage.py import_records survey_responses) ------------------------------------

# A row per invitation, with its answer when there is one. The import needs `sent_at`: an invitation
# that never went out (its e-mail failed, or is still queued) is not survey history and is left out.
SURVEY_RESPONSES_IMPORT = CsvFormat(
    name="survey_responses",
    raw=True,
    select_related=("survey", "contact", "ticket", "response"),
    only=Q(sent_at__isnull=False),
    columns=(
        Column("external_id", record_ref),
        Column("survey", name_of("survey")),
        Column("kind", "survey.kind"),
        Column("contact", ref("contact")),
        Column("ticket", ref("ticket")),
        "sent_at",
        Column("submitted_at", _answer("submitted_at")),
        Column("score", _answer("score")),
        Column("comment", _answer("comment")),
    ),
)

# The same rows from a list of responses (the responses page and API): each answer's invitation, whose
# `response` is the listed answer already (Django caches the reverse side of the one-to-one join).
SURVEY_RESPONSES_IMPORT_FROM_RESPONSES = SURVEY_RESPONSES_IMPORT.through(
    "invitation", select_related=("survey", "contact", "ticket")
)
