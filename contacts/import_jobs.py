"""The import page's jobs: store an uploaded CSV file, check it (a dry run), then import it, both in Celery.

Every write here is a service (`import_job_<action>`, keyword-only, one transaction). While a job runs, its
progress lives in the cache, not in its row: the import is one transaction, so a count written to the row
from inside it would only show once it is over.
"""

import csv
import io
import logging

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from audit.context import acting
from audit.models import AuditEntry
from crm_project import outbox
from crm_project.services import refuse

from .importing import ImportResult, records_import
from .models import ImportJob

logger = logging.getLogger(__name__)

PREVIEW_ROWS = 10
PROBLEMS_KEPT = 500  # the page lists these; the count says how many there were in all


def _progress_key(job_id: int) -> str:
    return f"import-job:{job_id}:rows"


def import_job_progress(job: ImportJob) -> int:
    """Rows read so far by the running check or import (0 when the cache is away)."""
    if not job.is_working:
        return job.rows_done
    try:
        return int(cache.get(_progress_key(job.pk)) or 0)
    except Exception:  # a dead Redis must not take the page down; the bar just stays put
        return 0


def _report_progress(job_id: int):
    def report(rows: int) -> None:
        try:
            cache.set(_progress_key(job_id), rows, timeout=24 * 3600)
        except Exception:
            logger.warning("Cannot record the progress of import job %s", job_id)

    return report


def _preview(content: bytes) -> dict:
    """The header and the first rows as the file has them, with their line numbers, for the page."""
    reader = csv.reader(io.StringIO(content[:65536].decode("utf-8-sig", errors="replace")))
    header, rows = next(reader, []), []
    try:
        end = reader.line_num
        for cells in reader:
            start, end = end + 1, reader.line_num
            if "".join(cells).strip():  # blank lines are skipped, as the import does
                rows.append({"line": start, "cells": cells})
            if len(rows) == PREVIEW_ROWS:
                break
    except csv.Error:
        pass  # the check reports it, with its line
    return {"header": header, "rows": rows}


@transaction.atomic
def import_job_create(*, kind: str, file_name: str, content: bytes, skip_bad_rows: bool, user) -> ImportJob:
    """Keep an uploaded file (already checked to be UTF-8 text) and check it in the background."""
    job = ImportJob.objects.create(
        kind=kind,
        file_name=file_name[:255],
        content=content,
        size=len(content),
        skip_bad_rows=skip_bad_rows,
        rows_total=max(content.count(b"\n") - 1 + (not content.endswith(b"\n")), 0),
        preview=_preview(content),
        created_by=user,
    )
    from .tasks import check_import_job

    outbox.enqueue_on_commit(check_import_job, job.pk)  # the job's status is the outbox: checking
    return job


def _keep_result(job: ImportJob, result: ImportResult) -> None:
    job.rows_total = job.rows_done = result.rows
    job.created_count, job.updated_count, job.unchanged_count = result.created, result.updated, result.unchanged
    job.bad_rows, job.problem_count, job.unreadable = result.bad_rows, result.problem_count, result.stopped
    job.problems = [problem.as_dict() for problem in result.problems[:PROBLEMS_KEPT]]
    job.notes = result.notes
    job.summary = result.summary()[:500]


def _run(job: ImportJob, *, dry_run: bool) -> ImportResult:
    return records_import(
        kind=job.kind,
        stream=io.BytesIO(bytes(job.content)),
        dry_run=dry_run,
        skip_bad_rows=job.skip_bad_rows,
        progress=_report_progress(job.pk),
        max_problems=PROBLEMS_KEPT,
    )


def import_job_check(*, job_id: int) -> None:
    """The dry run behind the preview: what would be created, updated, and every problem found."""
    job = ImportJob.objects.get(pk=job_id)
    if job.status != ImportJob.Status.CHECKING:
        return  # checked already (a task delivered twice)
    try:
        result = _run(job, dry_run=True)
    except Exception:
        logger.exception("Checking import job %s failed", job_id)
        job.status, job.summary = ImportJob.Status.FAILED, "The file could not be checked: nothing was imported."
        _save_if_still_checking(job, ["status", "summary"])
        raise
    _keep_result(job, result)
    job.status = ImportJob.Status.CHECKED
    _save_if_still_checking(job)


@transaction.atomic
def _save_if_still_checking(job: ImportJob, fields: list[str] | None = None) -> None:
    # A check delivered twice (the outbox hands pending work over again) must not put back a job that the
    # other check finished and the user already confirmed.
    if ImportJob.objects.select_for_update().filter(pk=job.pk, status=ImportJob.Status.CHECKING).exists():
        job.save(update_fields=fields)


@transaction.atomic
def import_job_confirm(*, job: ImportJob, skip_bad_rows: bool) -> ImportJob:
    """The user saw the preview and confirms: the import is queued."""
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status != ImportJob.Status.CHECKED:
        refuse(f"This import is {job.get_status_display().lower()}: it cannot be started again.")
    job.skip_bad_rows = skip_bad_rows
    if not job.can_import:
        refuse("Nothing in this file can be imported: correct it and upload it again.")
    job.status = ImportJob.Status.QUEUED
    job.rows_done = 0
    job.save(update_fields=["skip_bad_rows", "status", "rows_done"])
    from .tasks import run_import_job

    outbox.enqueue_on_commit(run_import_job, job.pk)  # the job's status is the outbox: queued
    return job


def import_jobs_dispatch_pending(created_before) -> int:
    """The outbox's dispatch: queue again the check of jobs still checking and the run of jobs still queued
    (made before then). Each task claims its job by status, so a job queued twice runs once."""
    from .tasks import check_import_job, run_import_job

    queued = 0
    jobs = ImportJob.objects.filter(
        status__in=[ImportJob.Status.CHECKING, ImportJob.Status.QUEUED], created_at__lt=created_before
    )
    for job_id, status in jobs.order_by("pk").values_list("pk", "status"):
        task = check_import_job if status == ImportJob.Status.CHECKING else run_import_job
        queued += outbox.enqueue(task, job_id)
    return queued


def import_job_run(*, job_id: int) -> None:
    """Import the file of a confirmed job (one transaction; see records_import) and keep the summary."""
    updated = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.QUEUED).update(
        status=ImportJob.Status.RUNNING, started_at=timezone.now()
    )
    if not updated:
        return  # started already (a task delivered twice)
    job = ImportJob.objects.get(pk=job_id)
    _report_progress(job_id)(0)
    try:
        # The audit trail names the user who uploaded and confirmed the file.
        with acting(user=job.created_by, source=AuditEntry.Source.IMPORT, note=f"Import {job.pk}: {job.file_name}"):
            result = _run(job, dry_run=False)
    except Exception:
        logger.exception("Import job %s failed", job_id)
        job.status, job.summary = ImportJob.Status.FAILED, "The import failed unexpectedly: nothing was imported."
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "summary", "finished_at"])
        raise
    _keep_result(job, result)
    job.status = ImportJob.Status.DONE if result.imported else ImportJob.Status.FAILED
    job.finished_at = timezone.now()
    job.save()
