"""Thin Celery tasks of the help desk."""

from smtplib import SMTPException

from celery import shared_task
from django.conf import settings

from . import services


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def close_resolved_tickets() -> int:
    """Hourly: close tickets resolved more than SUPPORT_AUTO_CLOSE_DAYS ago."""
    return services.tickets_close_resolved(older_than_days=settings.SUPPORT_AUTO_CLOSE_DAYS)


@shared_task(autoretry_for=(SMTPException, ConnectionError, TimeoutError), retry_backoff=True, max_retries=5)
def send_replies(message_ids: list[int]) -> int:
    """E-mail agents' replies to their customers; running twice sends nothing twice."""
    return services.replies_send(message_ids=message_ids)
