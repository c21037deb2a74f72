"""Thin Celery tasks of the surveys app."""

from smtplib import SMTPException

from celery import shared_task

from . import services


@shared_task(autoretry_for=(SMTPException, ConnectionError, TimeoutError), retry_backoff=True, max_retries=5)
def send_invitations(invitation_ids: list[int]) -> int:
    """Send a batch of survey e-mails; running twice sends nothing twice."""
    return services.invitations_send(invitation_ids=invitation_ids)


@shared_task(autoretry_for=(ConnectionError, TimeoutError), retry_backoff=True, max_retries=3)
def invite_after_ticket_resolved(ticket_id: int) -> None:
    """No longer queued (resolving a ticket invites in its own transaction); kept for messages in flight."""
    services.invite_after_ticket_resolved(ticket_id)
