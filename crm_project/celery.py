"""The Celery app. Its beat schedule is declared in settings (CELERY_BEAT_SCHEDULE)."""

import os

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_project.settings")

# The apps' tasks are found by autodiscovery; the project's own (not an app) are named here.
app = Celery("crm_project", include=["crm_project.tasks"])
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect
def _dispatch_pending_work(sender, **kwargs):
    """A worker that starts (after an outage, say) first hands over the work still pending in the database."""
    sender.app.send_task("crm_project.tasks.dispatch_pending")
