"""Background tasks (Django's Tasks API through the django-tasks backport): the worker's entry
points. Tasks take primary keys and are enqueued after commit; the work itself lives in
:mod:`transcripts.jobs`, :mod:`transcripts.packages` and :mod:`transcripts.archiving`.

This module imports those; none of them imports it: they enqueue a task by its dotted name
(``"transcripts.tasks.run_transcript_job"``, see :func:`transcripts.background.enqueue`)."""

from __future__ import annotations

from django_tasks import task

from transcripts import batches, jobs
from transcripts.archiving import extend_due_versions
from transcripts.models import BatchStatus
from transcripts.packages import exports, uploads, verify_jobs


@task()
def run_transcript_job(job_id: int) -> dict[str, int | str]:
    """Run a confirm / sign / seal batch (see :func:`transcripts.jobs.run_job`)."""
    return jobs.run_job(job_id)


@task()
def run_package_export(package_id: int) -> dict[str, int | str]:
    """Build a transcript package (see :func:`transcripts.packages.exports.run_export`)."""
    return exports.run_export(package_id)


@task()
def run_package_upload(package_id: int) -> dict[str, int | str]:
    """Send a package to the provincial endpoint (see
    :func:`transcripts.packages.uploads.run_upload`)."""
    return uploads.run_upload(package_id)


@task()
def run_package_verification(job_id: int) -> dict[str, int | str]:
    """Check the transcripts of a package sent to the public verification page (see
    :func:`transcripts.packages.verify_jobs.run_verification`)."""
    return verify_jobs.run_verification(job_id)


@task()
def poll_signing_batch(batch_id: int) -> str:
    """Look at a batch waiting for its signer and move its job or package on (see
    :func:`transcripts.batches.poll_once`); while it waits, look again later."""
    batch = batches.poll_once(batch_id)
    if batch is None:
        return "gone"
    if batch.job_id:
        jobs.after_batch(batch)
    else:
        exports.after_seal(batch)
    if batch.status == BatchStatus.WAITING:
        batches.schedule_poll(batch.pk, batches.poll_interval(batch))
    return batch.status


@task()
def extend_archive_timestamps(
    margin_days: int = 365, batch: int = 100, limit: int | None = None
) -> dict[str, int]:
    """Archive time-stamps for the sealed transcripts that are due (see
    :func:`transcripts.archiving.extend_due_versions`); scheduled daily by cron
    (``manage.py extend_signatures``, or ``--enqueue`` to hand it to a worker)."""
    result = extend_due_versions(margin_days=margin_days, batch=batch, limit=limit)
    return {
        "extended": len(result.extended),
        "skipped": result.skipped,
        "failed": len(result.failed),
    }
