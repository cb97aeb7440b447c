"""Background tasks (Django's Tasks API through the django-tasks backport). Tasks take primary
keys and are enqueued after commit; the work itself lives in :mod:`transcripts.jobs`."""

from __future__ import annotations

from django_tasks import task

from transcripts import jobs


@task()
def run_transcript_job(job_id: int) -> dict[str, int | str]:
    """Run a confirm / sign / seal batch (see :func:`transcripts.jobs.run_job`)."""
    return jobs.run_job(job_id)
