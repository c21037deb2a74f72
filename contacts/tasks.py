"""Celery tasks of contacts: thin, each calls one service."""

from celery import shared_task

from . import import_jobs


@shared_task
def check_import_job(job_id: int) -> None:
    import_jobs.import_job_check(job_id=job_id)


@shared_task
def run_import_job(job_id: int) -> None:
    import_jobs.import_job_run(job_id=job_id)
