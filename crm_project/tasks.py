"""Project-wide periodic housekeeping."""

from celery import shared_task
from django.contrib.sessions.models import Session
from django.db import connection
from django.utils import timezone


@shared_task
def clear_expired_sessions() -> int:
    """Delete expired login sessions; returns how many went."""
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted


@shared_task
def worker_health() -> dict:
    """Tell whether a worker reaches the database: used by the health page's deep check and tests."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"database": "ok", "vendor": connection.vendor}
