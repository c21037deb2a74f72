"""Thin Celery tasks of the sales side: each calls one service."""

from celery import shared_task

from . import services


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def expire_due_subscriptions() -> int:
    """Daily: subscriptions past their end date without a decision expire; their customers may churn."""
    return services.subscriptions_expire_due()
