"""Thin Celery tasks of the help desk."""

from celery import shared_task
from django.conf import settings

from . import services


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def close_resolved_tickets() -> int:
    """Hourly: close tickets resolved more than SUPPORT_AUTO_CLOSE_DAYS ago."""
    return services.tickets_close_resolved(older_than_days=settings.SUPPORT_AUTO_CLOSE_DAYS)
