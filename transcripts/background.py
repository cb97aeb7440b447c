"""What every background job of the transcripts shares: handing secrets to the worker sealed,
picking a queued job up exactly once (wiping its secrets), and finishing it.

A job row (:class:`transcripts.models.BackgroundJob`) is created with its secrets sealed
(AES-GCM under a key derived from SECRET_KEY) and enqueued after commit. :func:`pick_up` claims
it under a row lock: a second delivery finds it no longer queued and does nothing; a job that
waited longer than SIGNING_HANDOFF_SECONDS with secrets fails without using them.

Each pick-up starts a new run of the row (``attempts``) and writes its heartbeat; the running
worker beats again at least once per item or chunk (:func:`beat`, one UPDATE). A running job
whose heartbeat is older than JOB_HEARTBEAT_STALE_SECONDS lost its worker (killed, machine
gone): :func:`interrupt_stale` marks it interrupted (its page does when it is looked at, and
``manage.py interrupt_stale_jobs`` sweeps every job), and it can be resumed or started again.
Every write of a run is conditional on the row still being that run's (running, same
``attempts``): a worker thought dead that is still alive gets :class:`Superseded` at its next
write and stops, leaving the interrupted or resumed row alone.

The worker's entry points are the tasks of :mod:`transcripts.tasks`, the one module that imports
the modules whose work they run; those modules enqueue a task by its dotted name
(:func:`enqueue`, :func:`enqueue_later`), the name the task backends store and the worker
imports, so nothing imports :mod:`transcripts.tasks`.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import TypeVar

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django_tasks.base import Task

from transcripts.models import BackgroundJob, JobStatus
from transcripts.signing.signers import decrypt_at_rest, encrypt_at_rest

Job = TypeVar("Job", bound=BackgroundJob)
logger = logging.getLogger(__name__)


class Superseded(Exception):
    """The job's row is no longer this run's: it was marked interrupted (no heartbeat for
    JOB_HEARTBEAT_STALE_SECONDS) or another run resumed it. The worker stops, writing nothing."""

    def __init__(self, job: BackgroundJob) -> None:
        super().__init__(f"{type(job).__name__} {job.pk}: this run was superseded")


class JobRefused(Exception):
    """A job that cannot be started; ``message`` is translated for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def seal_secrets(secrets: dict[str, str]) -> bytes:
    """The secrets as stored on the job row for the worker (empty when there are none), with
    the time they were sealed: they are usable for SIGNING_HANDOFF_SECONDS from then."""
    if not secrets:
        return b""
    payload = {"sealed_at": timezone.now().isoformat(), "secrets": secrets}
    return encrypt_at_rest(json.dumps(payload).encode())


def _unseal(sealed: bytes, default_time: datetime) -> tuple[dict[str, str], datetime]:
    """The secrets and when they were sealed (a job parked while its signer confirms keeps the
    secrets of its later steps sealed again)."""
    payload = json.loads(decrypt_at_rest(sealed))
    if "sealed_at" not in payload:  # sealed before the time was kept in the blob
        return payload, default_time
    return payload["secrets"], datetime.fromisoformat(payload["sealed_at"])


def pick_up(jobs: QuerySet[Job], pk: int) -> tuple[Job, dict[str, str]] | None:
    """Claim the queued job ``pk`` of ``jobs`` exactly once and take its secrets (wiping them);
    None when it is not waiting (already run, or a duplicate delivery)."""
    with transaction.atomic():
        job = jobs.select_for_update(of=("self",)).filter(pk=pk).first()
        if job is None or job.status != JobStatus.QUEUED:
            return None
        sealed = bytes(job.sealed_secrets)
        job.sealed_secrets = b""
        now = timezone.now()
        secrets, sealed_at = _unseal(sealed, job.created_at) if sealed else ({}, now)
        if job.started_at is None:  # the first hand-off: sealed when the job row was created
            sealed_at = job.created_at
            job.started_at = now
        handoff = timedelta(seconds=settings.SIGNING_HANDOFF_SECONDS)
        if sealed and now - sealed_at > handoff:
            job.status = JobStatus.FAILED
            job.finished_at = now
            job.message = _(
                "No worker picked the job up in time, and the certificate password it was given "
                "has expired; start the job again."
            )
            job.save()
            return None
        job.status = JobStatus.RUNNING
        job.attempts += 1  # under the row lock: this run's number
        job.heartbeat_at = now
        job.save()
    return job, secrets


def run_rows(job: Job) -> QuerySet[Job]:
    """The job's row while it is still this run's (running, the run's number)."""
    return type(job)._default_manager.filter(
        pk=job.pk, status=JobStatus.RUNNING, attempts=job.attempts
    )


def beat(job: BackgroundJob, **fields) -> None:
    """The running job's heartbeat, with any progress ``fields``: one UPDATE of the row, only
    while it is this run's; Superseded otherwise (the worker must stop)."""
    if not run_rows(job).update(heartbeat_at=timezone.now(), **fields):
        raise Superseded(job)


def stale_limit() -> datetime:
    """A running job whose last heartbeat is older than this has lost its worker."""
    return timezone.now() - timedelta(seconds=settings.JOB_HEARTBEAT_STALE_SECONDS)


def stale(rows: QuerySet, *, status_field: str = "status", running: str = JobStatus.RUNNING):
    """The rows of ``rows`` running without a recent heartbeat (a row from before heartbeats
    were written counts from its start)."""
    limit = stale_limit()
    return rows.filter(**{status_field: running}).filter(
        Q(heartbeat_at__lt=limit) | Q(heartbeat_at__isnull=True, started_at__lt=limit)
    )


def interrupt_stale(jobs: QuerySet) -> int:
    """Mark the running jobs of ``jobs`` whose worker stopped interrupted (secrets, if any left,
    wiped); the number marked. An interrupted job is not active: its page stops polling and
    offers to resume it."""
    return stale(jobs).update(status=JobStatus.INTERRUPTED, sealed_secrets=b"")


def finish(job: BackgroundJob, *, message: str = "", failed: bool = False, **fields) -> None:
    """Record the end of the job's run (and any result ``fields``); Superseded when the row is
    no longer this run's (interrupted or resumed meanwhile): nothing is written."""
    updated = run_rows(job).update(
        status=JobStatus.FAILED if failed else JobStatus.FINISHED,
        finished_at=timezone.now(),
        heartbeat_at=timezone.now(),
        message=message,
        **fields,
    )
    if not updated:
        raise Superseded(job)


def task_named(name: str) -> Task:
    """The task at the dotted path ``name`` (``"transcripts.tasks.run_transcript_job"``)."""
    task = import_string(name)
    if not isinstance(task, Task):
        raise TypeError(f"{name} is not a task")
    return task


def enqueue(
    task_name: str,
    model: type[models.Model],
    pk: int,
    *,
    status_field: str = "status",
    task_field: str = "task_id",
    message_field: str = "message",
    queued: str = JobStatus.QUEUED,
    failed: str = JobStatus.FAILED,
) -> None:
    """Hand job ``pk`` to the task named ``task_name`` (called after commit). When the broker
    is down the job says so and fails, instead of waiting for ever."""
    task = task_named(task_name)
    try:
        result = task.enqueue(pk)
    except Exception as exc:
        logger.exception("could not enqueue %s %s", model.__name__, pk)
        fields: dict[str, object] = {status_field: failed, message_field: _(
            "The job could not be queued (%(error)s); start it again."
        ) % {"error": type(exc).__name__}}  # fmt: skip
        if status_field == "status":
            fields.update(sealed_secrets=b"", finished_at=timezone.now())
        model._default_manager.filter(pk=pk, **{status_field: queued}).update(**fields)
        return
    model._default_manager.filter(pk=pk).update(**{task_field: str(result.id)})


def enqueue_later(task_name: str, pk: int, *, seconds: float) -> bool:
    """Run the task named ``task_name`` on ``pk`` in ``seconds`` (a poll), where the task
    backend can defer; False when it cannot (the immediate backend of a debugging setup) or the
    broker is down."""
    task = task_named(task_name)
    if not task.get_backend().supports_defer:
        return False
    try:
        task.using(run_after=timezone.now() + timedelta(seconds=seconds)).enqueue(pk)
    except Exception:
        logger.exception("could not schedule %s for %s", task.name, pk)
        return False
    return True
