"""Every write of the surveys app. Each service is one transaction; e-mails go out after commit.

Tokens: 192 random bits from `secrets`; the link carries the token, the database only
its SHA-256. Opening a link records nothing but `opened_at`: only the form's POST
answers (mail scanners open links too).
"""

import datetime
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact
from crm_project import outbox
from crm_project.mail import send_each_once
from crm_project.services import refuse

from .models import DEFAULT_LABELS, MAX_COMMENT, Invitation, Response, Survey, SurveyKind, hash_token  # noqa: F401

EDIT_WINDOW = datetime.timedelta(hours=24)


def new_token() -> str:
    return secrets.token_urlsafe(24)


def invitation_by_token(token: str) -> Invitation | None:
    """The invitation a link opens, or None (a malformed token never reaches the database)."""
    if not token or len(token) > 64 or not all(c.isalnum() or c in "-_" for c in token):
        return None
    return (
        Invitation.objects.select_related("survey", "contact", "response", "ticket")
        .filter(token_hash=hash_token(token))
        .first()
    )


# Inviting and sending -------------------------------------------------------------------------------------------


def eligible_contacts(*, survey: Survey, contacts: QuerySet[Contact], quiet_days: int | None = None) -> QuerySet:
    """Contacts that may be asked now: with an e-mail, not opted out, not asked within the quiet period."""
    quiet_days = settings.SURVEY_QUIET_DAYS if quiet_days is None else quiet_days
    recently_asked = Invitation.objects.filter(
        contact=OuterRef("pk"), created_at__gte=timezone.now() - datetime.timedelta(days=quiet_days)
    )
    return contacts.exclude(email="").filter(email_opt_out=False).exclude(Exists(recently_asked))


@transaction.atomic
def invitations_create(
    *, survey: Survey, contacts: QuerySet[Contact], ticket=None, quiet_days: int | None = None
) -> list[Invitation]:
    """Invite the eligible contacts (skipping opted-out and recently asked ones) and send after commit."""
    if not survey.is_active:
        refuse("This survey is not active.")
    now = timezone.now()
    invitations = Invitation.objects.bulk_create(
        Invitation(survey=survey, contact=contact, ticket=ticket, created_at=now)
        for contact in eligible_contacts(survey=survey, contacts=contacts, quiet_days=quiet_days).order_by("pk")
    )
    # The invitations are the outbox: unsent, they wait here until a worker sends them (Redis down or not).
    for chunk in _batches([invitation.pk for invitation in invitations]):
        outbox.enqueue_on_commit(_send_task(), chunk)
    return invitations


def _send_task():
    from .tasks import send_invitations

    return send_invitations


def _batches(ids: list[int]) -> list[list[int]]:
    batch = settings.SURVEY_SEND_BATCH
    return [ids[start : start + batch] for start in range(0, len(ids), batch)]


def pending_invitations():
    """Invitations made by the CRM and not sent yet (nor given up: no address, opted out)."""
    return Invitation.objects.filter(sent_at__isnull=True, send_error="", external_id="")


def invitations_dispatch_pending(created_before: datetime.datetime) -> int:
    """The outbox's dispatch: queue the sending of invitations still unsent that were made before then."""
    ids = list(pending_invitations().filter(created_at__lt=created_before).order_by("pk").values_list("pk", flat=True))
    return sum(outbox.enqueue(_send_task(), chunk) for chunk in _batches(ids))


def about_ticket(invitation: Invitation):
    """The request a CSAT survey is about, to name it to the customer (who may have several), while it is still
    theirs: a ticket moved to another contact since is not shown to this one."""
    ticket = invitation.ticket
    return ticket if ticket is not None and ticket.contact_id == invitation.contact_id else None


def _email_for(invitation: Invitation, token: str) -> EmailMultiAlternatives:
    base = settings.PUBLIC_BASE_URL.rstrip("/")
    link = base + reverse("surveys:answer", args=[token])
    context = {
        "invitation": invitation,
        "survey": invitation.survey,
        "contact": invitation.contact,
        "ticket": about_ticket(invitation),
        "link": link,
        "score_links": [(score, f"{link}?score={score}") for score in invitation.survey.scale],
        "unsubscribe_link": base + reverse("surveys:unsubscribe", args=[token]),
    }
    message = EmailMultiAlternatives(
        subject=render_to_string("surveys/email/subject.txt", context).strip(),
        body=render_to_string("surveys/email/invitation.txt", context),
        to=[invitation.contact.email],
        headers={"List-Unsubscribe": f"<{context['unsubscribe_link']}>"},
    )
    message.attach_alternative(render_to_string("surveys/email/invitation.html", context), "text/html")
    return message


def invitations_send(*, invitation_ids: list[int]) -> int:
    """Send the unsent invitations among these, each once (`crm_project.mail.send_each_once`). Returns how many
    went. A contact who opted out, or has no address, is given up without an e-mail."""

    def prepare(invitation: Invitation) -> EmailMultiAlternatives | str:
        if invitation.contact.email_opt_out or not invitation.contact.email:
            return "The contact opted out of e-mails." if invitation.contact.email else "No e-mail address."
        token = new_token()
        invitation.token_hash = hash_token(token)
        invitation.sent_at = timezone.now()
        invitation.expires_at = invitation.sent_at + datetime.timedelta(days=settings.SURVEY_LINK_DAYS)
        invitation.save(update_fields=["token_hash", "sent_at", "expires_at"])
        return _email_for(invitation, token)

    return send_each_once(
        unsent=Invitation.objects.filter(sent_at__isnull=True).select_related("survey", "contact", "ticket"),
        ids=invitation_ids,
        prepare=prepare,
        give_up=lambda ids, reason: Invitation.objects.filter(pk__in=ids).update(send_error=reason),
    )


def invite_after_ticket_resolved(ticket_id: int) -> None:
    """Support calls this inside the transaction that resolves a ticket: the automatic CSAT surveys go to its
    contact (the invitations are written with the resolution; the e-mails go after commit)."""
    from support.models import Ticket

    ticket = Ticket.objects.select_related("contact").filter(pk=ticket_id).first()
    if ticket is None or ticket.contact is None:
        return
    for survey in Survey.objects.filter(is_active=True, send_on_ticket_resolved=True, kind=SurveyKind.CSAT):
        invitations_create(survey=survey, contacts=Contact.objects.filter(pk=ticket.contact_id), ticket=ticket)


# Answering ------------------------------------------------------------------------------------------------------


def invitation_mark_opened(*, invitation: Invitation) -> None:
    if invitation.opened_at is None:
        Invitation.objects.filter(pk=invitation.pk, opened_at__isnull=True).update(opened_at=timezone.now())


def can_change_answer(invitation: Invitation) -> bool:
    response = getattr(invitation, "response", None)
    return response is not None and timezone.now() < response.submitted_at + EDIT_WINDOW


def _validated(survey: Survey, score, comment: str) -> tuple[int, str]:
    try:
        score = int(score)
    except (TypeError, ValueError):
        refuse("Choose a score.", "score")
    if score not in survey.scale:
        refuse(f"Choose a score from {survey.scale.start} to {survey.scale.stop - 1}.", "score")
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        refuse(f"The comment is too long: at most {MAX_COMMENT:,} characters.", "comment")
    return score, comment


@transaction.atomic
def survey_response_submit(*, invitation: Invitation, score, comment: str = "") -> Response:
    """Record the answer; for 24 hours the same link may change it (the one response is updated).

    Two submissions at the same moment store one response: the invitation row is locked,
    and the one-response-per-invitation constraint backs it up.
    """
    invitation = Invitation.objects.select_for_update().select_related("survey").get(pk=invitation.pk)
    score, comment = _validated(invitation.survey, score, comment)
    existing = Response.objects.filter(invitation=invitation).first()
    now = timezone.now()
    if existing is not None:
        if now >= existing.submitted_at + EDIT_WINDOW:
            refuse("This survey was answered more than a day ago and can no longer be changed.")
        existing.score, existing.comment, existing.updated_at = score, comment, now
        existing.full_clean()
        existing.save(update_fields=["score", "comment", "updated_at"])
        return existing
    if invitation.is_expired:
        refuse("This survey link has expired.")
    response = Response(invitation=invitation, kind=invitation.survey.kind, score=score, comment=comment)
    response.full_clean(validate_unique=False)
    try:
        with transaction.atomic():
            response.save()
    except IntegrityError:
        raise ValidationError("This survey was already answered.") from None
    return response


@transaction.atomic
def contact_unsubscribe(*, invitation: Invitation) -> Contact:
    """The e-mail's unsubscribe link: the contact gets no more survey e-mails."""
    contact = Contact.objects.select_for_update().get(pk=invitation.contact_id)
    if not contact.email_opt_out:
        contact.email_opt_out = True
        contact.save(update_fields=["email_opt_out", "updated_at"])
    return contact


@transaction.atomic
def survey_create(*, data: dict) -> Survey:
    from crm_project.services import apply_and_save

    return apply_and_save(
        Survey(),
        ("name", "kind", "question", "low_label", "high_label", "is_active", "send_on_ticket_resolved"),
        data,
    )


SURVEY_FIELDS = ("name", "kind", "question", "low_label", "high_label", "is_active", "send_on_ticket_resolved")


@transaction.atomic
def survey_update(*, survey: Survey, data: dict) -> Survey:
    """Edit a survey. Its kind is fixed once it has been sent: its answers are on that kind's scale."""
    from crm_project.services import apply_and_save

    survey = Survey.objects.select_for_update().get(pk=survey.pk)
    if "kind" in data and data["kind"] != survey.kind and survey.invitations.exists():
        refuse("This survey has been sent: its kind can no longer change. Create a new survey instead.", "kind")
    if "kind" in data and data["kind"] != survey.kind:
        # The default end labels belong to the old scale; a new kind gets its own.
        for field in ("low_label", "high_label"):
            if data.get(field, getattr(survey, field)) in DEFAULT_LABELS[survey.kind]:
                data = {**data, field: ""}
    return apply_and_save(survey, SURVEY_FIELDS, data)


@transaction.atomic
def survey_delete(*, survey: Survey) -> None:
    """Delete a survey never sent; one with invitations is protected (deactivate it instead)."""
    if survey.invitations.exists():
        refuse("This survey has been sent, so its answers refer to it: deactivate it instead.")
    survey.delete()
