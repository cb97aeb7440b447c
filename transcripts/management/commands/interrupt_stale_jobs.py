"""Mark the background jobs whose worker died interrupted: every running job (confirm / sign /
seal, package export, package check) and every package upload whose worker has written no
heartbeat for JOB_HEARTBEAT_STALE_SECONDS. An interrupted job is resumed, or started again,
from its page. A job's page marks it too when someone looks at it; this sweep is for the jobs
nobody is looking at (and for the lists that show their state). Run it from cron every few
minutes (docs/deployment.md):

    */5 * * * *  cd /srv/sodiem && .venv/bin/python manage.py interrupt_stale_jobs

Safe to run at any time and from several machines: each mark is one conditional UPDATE.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand

from transcripts import background
from transcripts.models import BackgroundJob, TranscriptPackage
from transcripts.packages import uploads


class Command(BaseCommand):
    help = (
        "Mark running background jobs and package uploads whose worker has written no "
        "heartbeat for JOB_HEARTBEAT_STALE_SECONDS as interrupted (resumable from their page)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        for model in apps.get_models():
            if issubclass(model, BackgroundJob):
                count = background.interrupt_stale(model._default_manager.all())
                if count and options["verbosity"]:
                    self.stdout.write(f"{model._meta.label}: {count} interrupted")
        count = uploads.interrupt_stale(TranscriptPackage.objects.all())
        if count and options["verbosity"]:
            self.stdout.write(f"{TranscriptPackage._meta.label} uploads: {count} interrupted")
