"""Celery tasks of the KPI engine: thin, they call services."""

import logging

from celery import shared_task

from kpis import rollups, services
from kpis.cohorts import kpis_cohorts_refresh
from kpis.digest import kpis_digest_send

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, ignore_result=True)
def refresh_open_periods() -> None:
    """Every few minutes: the open periods, and whatever records changed since the last run."""
    try:
        services.kpis_refresh_open()
    except services.RefreshBusy:
        logger.info("KPI refresh of open periods skipped: one is running")
        return
    _refresh_cohorts()


@shared_task(acks_late=True, ignore_result=True)
def refresh_all_history() -> None:
    """Nightly: every period of every KPI, from the oldest record."""
    try:
        services.kpis_refresh(scope="all")
    except services.RefreshBusy:
        logger.info("Nightly KPI refresh skipped: one is running")
        return
    rollups.prune()
    _refresh_cohorts()


def _refresh_cohorts() -> None:
    # Under its own lock: two at once would both empty the table, and the second insert would collide.
    try:
        with services.refresh_lock("cohorts"):
            kpis_cohorts_refresh()
    except services.RefreshBusy:
        logger.info("Cohort refresh skipped: one is running")


@shared_task(acks_late=True, ignore_result=True)
def send_weekly_digest() -> None:
    """Monday mornings: the KPI digest to every manager."""
    sent = kpis_digest_send()
    logger.info("KPI digest sent to %s managers", sent)
