"""The CSV import of survey answers (see docs/import-format.md), registered in SurveysConfig.ready().

A row is one invitation (the survey by name, created with the row's kind when missing; sent at sent_at,
expiring after the usual validity) and, when submitted_at is given, its response. Imported invitations get
a random token hash: no e-mail is sent for history, so no link needs to open them.
"""

import datetime
import secrets
from dataclasses import dataclass

from django.conf import settings

from contacts.importers import check_order, contact_column, external_id_column
from contacts.importing import Choice, Column, DateTime, ExternalIdRef, ImportSpec, Integer, Text, Upserter
from contacts.importing.columns import LARGEST_INTEGER
from support.models import Ticket

from .models import DEFAULT_QUESTIONS, MAX_COMMENT, SCALES, Invitation, Response, Survey, SurveyKind


@dataclass
class _Survey:
    id: int | None  # None: to be created (or, in a dry run, would be)
    name: str
    kind: str


class SurveyResponseImporter(ImportSpec):
    kind = "survey_responses"
    model = Invitation
    also_writes = (Response,)
    description = (
        "NPS and CSAT surveys sent, and answered when submitted_at is given. A survey that does not exist is "
        "created with the row's kind."
    )
    columns = (
        external_id_column(),
        Column("survey", Text(150), required=True, help="survey name; created when missing"),
        Column("kind", Choice(SurveyKind), required=True),
        contact_column(required=True),
        Column("ticket", ExternalIdRef(Ticket, "tickets", fields=("contact_id",)), field="ticket_id"),
        Column("sent_at", DateTime(), required=True, field="sent_at"),
        Column("submitted_at", DateTime(), help="empty: not answered"),
        # Any whole number here, so that a score off the scale (-1 as 11) gets the scale's message below.
        Column("score", Integer(min_value=-LARGEST_INTEGER), help="0-10 for nps, 1-5 for csat"),
        Column("comment", Text(MAX_COMMENT)),
    )
    derived_fields = ("survey_id", "created_at", "expires_at")
    insert_only = ("token_hash",)
    compared_extra = ("response__score", "response__comment", "response__submitted_at")
    history_fields = ("sent_at", "response__submitted_at")
    rules = (
        "the kind is the survey's (a survey keeps its kind)",
        "submitted_at needs a score on the survey's scale (nps 0-10, csat 1-5); a score or comment needs submitted_at",
        "submitted_at is not before sent_at",
        "the ticket, when given, is the contact's",
    )

    def check_row(self, row, run) -> None:
        answered = row.given("submitted_at")
        if answered and row.absent("score"):
            run.error(row, "score", "an answered survey (submitted_at given) needs a score")
        elif row.given("score") and not answered and "submitted_at" not in row.bad_columns:
            run.error(row, "submitted_at", "a score needs submitted_at")
        if row["comment"] and not answered and "submitted_at" not in row.bad_columns:
            run.error(row, "submitted_at", "a comment needs submitted_at")
        if row.given("score", "kind") and row["score"] not in SCALES[row["kind"]]:
            scale = SCALES[row["kind"]]
            run.error(row, "score", f"{row['score']} is off the {row['kind']} scale ({scale.start}-{scale.stop - 1})")
        check_order(run, row, "sent_at", "submitted_at")

    def check_batch(self, rows, run) -> None:
        surveys = run.cache.get("surveys")
        if surveys is None:
            surveys = run.cache["surveys"] = {
                survey.name.lower(): _Survey(survey.pk, survey.name, survey.kind) for survey in Survey.objects.all()
            }
        for row in rows:
            ticket = row.targets.get("ticket")
            if ticket is not None and ticket[1] is not None and row.given("contact") and ticket[1] != row["contact"]:
                run.error(row, "ticket", f"ticket {row.keys['ticket']!r} is another contact's")
            if not row.given("survey", "kind"):
                continue
            survey = surveys.get(row["survey"].lower())
            if survey is None:
                survey = surveys[row["survey"].lower()] = _Survey(None, row["survey"], row["kind"])
                run.note(f"new survey: {survey.name} ({survey.kind})")
            if survey.kind != row["kind"]:
                run.error(row, "kind", f"the survey {survey.name!r} is a {survey.kind} survey")
                continue
            if row.ok and survey.id is None and run.writing:
                survey.id = Survey.objects.create(
                    name=survey.name, kind=survey.kind, question=DEFAULT_QUESTIONS[survey.kind]
                ).pk
            row.targets["survey"] = (survey,)

    def derive(self, row, record, run) -> None:
        record["survey_id"] = row.targets["survey"][0].id
        record["created_at"] = row["sent_at"]
        record["expires_at"] = row["sent_at"] + datetime.timedelta(days=settings.SURVEY_LINK_DAYS)
        # No link is sent for history: a random hash that no token matches.
        record["token_hash"] = secrets.token_hex(32)
        answered = row["submitted_at"] is not None
        record["response__score"] = row["score"] if answered else None
        record["response__comment"] = row["comment"] if answered else None
        record["response__submitted_at"] = row["submitted_at"]

    def after_write(self, rows, ids, run) -> None:
        responses = Upserter(
            Response, ("invitation_id", "kind", "score", "comment", "submitted_at"), key="invitation_id"
        )
        invitation_ids = {row["external_id"]: ids[row["external_id"]] for row in rows}
        answered = [row for row in rows if row["submitted_at"] is not None]
        before = responses.existing([invitation_ids[row["external_id"]] for row in answered])
        responses.upsert(
            [
                {
                    "invitation_id": invitation_ids[row["external_id"]],
                    "kind": row["kind"],
                    "score": row["score"],
                    "comment": row["comment"],
                    "submitted_at": row["submitted_at"],
                }
                for row in answered
            ],
            run.now,
            before,
        )
        # The file is the record: an answer that the file no longer has goes.
        unanswered = [invitation_ids[row["external_id"]] for row in rows if row["submitted_at"] is None]
        if unanswered:
            Response.objects.filter(invitation_id__any_of=unanswered).delete()
