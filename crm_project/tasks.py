"""Project-wide periodic housekeeping."""

import logging

from celery import shared_task
from django.contrib.sessions.models import Session
from django.db import connection
from django.utils import timezone

from . import outbox

logger = logging.getLogger(__name__)


@shared_task(ignore_result=False)
def clear_expired_sessions() -> int:
    """Delete expired login sessions; returns how many went."""
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted


@shared_task(ignore_result=False)
def worker_health() -> dict:
    """Tell whether a worker reaches the database: used by the health page's deep check and tests."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"database": "ok", "vendor": connection.vendor}


@shared_task
def dispatch_pending() -> dict[str, int]:
    """Every minute, and when a worker starts: hand the work still pending in the database to the broker.

    Not while the queue has a backlog: the pending work is most likely in it, and handing it over again
    every minute would only pile up copies (harmless, each claims its rows, but wasteful)."""
    backlog = outbox.broker_backlog()
    if backlog:
        logger.info("Pending work not dispatched: %s messages are waiting in the queue", backlog)
        return {}
    return outbox.dispatch_pending()
