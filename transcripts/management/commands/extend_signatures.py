"""Add archive time-stamps to sealed transcripts before their time-stamps' certificates expire
(PAdES B-LTA; transcripts/archiving.py). Idempotent: what is not due, or was just extended, is
skipped. Run it daily (docs/signing.md, "Archive time-stamps"):

    python manage.py extend_signatures [--days 365] [--batch 100] [--limit N] [--enqueue]

``--enqueue`` hands the run to the task workers (task ``extend_archive_timestamps``) instead of
running it here. Exit status 1 when a version could not be extended.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from transcripts import background
from transcripts.archiving import extend_due_versions
from transcripts.signing.signers import SigningError


class Command(BaseCommand):
    help = (
        "Add a fresh document time-stamp (archive time-stamp) to every sealed transcript whose "
        "newest time-stamp's certificate expires within --days (or that has none), with the "
        "validation data of the previous one. Needs SIGNING_TSA_URL."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days", type=int, default=365, help="Margin before the certificate's expiry"
        )
        parser.add_argument("--batch", type=int, default=100, help="Versions read at a time")
        parser.add_argument("--limit", type=int, default=None, help="Extend at most N versions")
        parser.add_argument(
            "--enqueue", action="store_true", help="Run it in a task worker instead"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["days"] < 1 or options["batch"] < 1:
            raise CommandError(_("--days and --batch must be positive."))
        if options["enqueue"]:
            task = background.task_named("transcripts.tasks.extend_archive_timestamps")
            queued = task.enqueue(
                margin_days=options["days"], batch=options["batch"], limit=options["limit"]
            )
            self.stdout.write(_("Enqueued: %(id)s") % {"id": queued.id})
            return
        try:
            result = extend_due_versions(
                margin_days=options["days"], batch=options["batch"], limit=options["limit"]
            )
        except SigningError as exc:
            raise CommandError(str(exc)) from exc
        for version_id, reason in result.failed:
            self.stdout.write(f"FAILED version {version_id}: {reason}")
        self.stdout.write(
            _("%(extended)s extended, %(skipped)s not due, %(failed)s failed.")
            % {
                "extended": len(result.extended),
                "skipped": result.skipped,
                "failed": len(result.failed),
            }
        )
        if result.failed:
            raise CommandError(_("Some versions could not be extended."), returncode=1)
