"""Confirm or sign a school's transcripts as one user, with that user's role: the operators' path
for large schools (the same batch action as the screens).

    SIGNING_SECRET=... python manage.py sign_transcripts --school CODE --year 2025-2026 \\
        [--class NAME] --as USERNAME [--seal] [--confirm]

The PKCS#12 password / PKCS#11 PIN / remote service PIN is read from the environment variable
SIGNING_SECRET, never from the command line (it would show in the process list and history).
With a remote service that asks for a confirmation on the signer's phone, or a USB token used
through the signing companion, the command runs the same jobs as the screens and waits for the
confirmation (the companion's: on the job page, whose address it prints).
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from accounts.models import User
from schools.access import is_leader, is_principal
from schools.models import ClassGroup, School
from transcripts.background import JobRefused
from transcripts.batches import credential_for, poll_interval
from transcripts.credentials import needs_secret, open_source
from transcripts.jobs import (
    job_items,
    poll_batch,
    run_job,
    start_job,
    waiting_batch,
    waiting_text,
)
from transcripts.management.commands._options import (
    SECRET_VARIABLE,
    school_and_year,
    secret_from_environment,
)
from transcripts.models import JobStatus, SignerRole, Transcript, TranscriptJob
from transcripts.pipeline import BatchResult, confirm_batch, sign_batch
from transcripts.signing.signers import SigningError
from transcripts.signing.sources import SignerSource
from transcripts.workflow import TRANSITIONS, transcript_for


class Command(BaseCommand):
    help = (
        "As --as USERNAME and with that user's role: confirm the homeroom class's transcripts "
        "(--confirm), sign the ready ones (homeroom teacher) or the homeroom-signed ones "
        "(principal), or apply the school seal (--seal). The certificate's password / PIN / "
        f"token comes from the environment variable {SECRET_VARIABLE}. Exit status 1 if any "
        "transcript failed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--school", required=True, help="School code")
        parser.add_argument("--year", required=True, help="School year, e.g. 2025-2026")
        parser.add_argument("--class", dest="class_name", help="Only this class (e.g. 6A1)")
        parser.add_argument("--as", dest="username", required=True, help="Acting user")
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--seal", action="store_true", help="Apply the school seal")
        group.add_argument(
            "--confirm", action="store_true", help="Confirm the class's draft transcripts"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        school, year = school_and_year(options["school"], options["year"])
        user = User.objects.filter(username=options["username"], is_active=True).first()
        if user is None:
            raise CommandError(
                _("No active user %(username)s.") % {"username": options["username"]}
            )
        classes = ClassGroup.objects.filter(year=year).order_by("name")
        if options["class_name"]:
            classes = classes.filter(name=options["class_name"])
            if not classes.exists():
                raise CommandError(
                    _("No class %(name)s in %(year)s.")
                    % {"name": options["class_name"], "year": year.name}
                )
        if options["confirm"]:
            result = self._confirm(user, classes)
        else:
            result = self._sign(user, school, classes, seal=options["seal"])
        self._report(result)

    def _confirm(self, user: User, classes: QuerySet[ClassGroup]) -> BatchResult:
        own = list(classes.filter(homeroom_teacher=user))
        if not own:
            raise CommandError(
                _("%(user)s is not the homeroom teacher of these classes.")
                % {"user": user.username}
            )
        transcripts = [
            transcript_for(student=enrollment.student, class_group=class_group)
            for class_group in own
            for enrollment in class_group.enrollments.select_related("student").order_by(
                "roll_number"
            )
        ]
        return confirm_batch(actor=user, transcripts=transcripts)

    def _sign(
        self, user: User, school: School, classes: QuerySet[ClassGroup], *, seal: bool
    ) -> BatchResult:
        if seal:
            if not is_principal(user, school.pk):
                raise CommandError(_("Only the principal applies the school seal."))
            role = SignerRole.SEAL
        elif is_leader(user, school.pk):
            role = SignerRole.PRINCIPAL
        elif classes.filter(homeroom_teacher=user).exists():
            role = SignerRole.HOMEROOM
            classes = classes.filter(homeroom_teacher=user)
        else:
            raise CommandError(
                _("%(user)s may not sign transcripts of %(school)s.")
                % {"user": user.username, "school": school}
            )
        transcripts = list(
            Transcript.objects.filter(class_group__in=classes, state__in=TRANSITIONS[role][0])
            .select_related("student", "class_group", "school")
            .order_by("class_group__name", "student__full_name")
        )
        if not transcripts:
            self.stdout.write(_("Nothing to sign."))
            return BatchResult()
        try:
            credential = credential_for(school=school, user=user, step=role)
        except JobRefused as exc:
            raise CommandError(exc.message) from exc
        secret = secret_from_environment() if needs_secret(credential) else ""
        try:
            source = open_source(credential=credential, secret=secret)
        except SigningError as exc:
            raise CommandError(str(exc)) from exc
        try:
            if isinstance(source, SignerSource):  # a key the server uses: sign at once
                return sign_batch(
                    actor=user, transcripts=transcripts, role=role, signer=source.signer
                )
        finally:
            source.close()
        return self._through_jobs(user, school, transcripts, role, secret)

    def _through_jobs(
        self, user: User, school: School, transcripts: list[Transcript], role: str, secret: str
    ) -> BatchResult:
        """The signer confirms elsewhere (a phone, the USB token on their computer): the same
        jobs as the screens, run here, waiting for the confirmation (one job per class for a
        homeroom teacher)."""
        groups: dict[ClassGroup | None, list[Transcript]] = {}
        for transcript in transcripts:
            key = transcript.class_group if role == SignerRole.HOMEROOM else None
            groups.setdefault(key, []).append(transcript)
        result = BatchResult()
        for class_group, group in groups.items():
            try:
                job = start_job(
                    actor=user,
                    school=school,
                    year=group[0].year,
                    transcripts=group,
                    steps=[role],
                    secrets={role: secret},
                    class_group=class_group,
                    in_background=False,
                )
            except JobRefused as exc:
                raise CommandError(exc.message) from exc
            job = self._run_until_done(job)
            result.items += job_items(job, group)
        return result

    def _run_until_done(self, job: TranscriptJob) -> TranscriptJob:
        announced = False
        while True:
            job.refresh_from_db()
            if job.status == JobStatus.QUEUED:
                run_job(job.pk)
            elif job.status == JobStatus.WAITING:
                batch = waiting_batch(job)
                if batch is not None:
                    if not announced:
                        self.stdout.write(waiting_text(job, batch))
                        announced = True
                    time.sleep(2 if batch.method == "companion" else poll_interval(batch))
                    poll_batch(batch.pk)
            elif job.status == JobStatus.RUNNING:
                time.sleep(1)  # a worker took it
            else:
                if job.status == JobStatus.FAILED and job.message:
                    raise CommandError(job.message)
                return job

    def _report(self, result: BatchResult) -> None:
        labels = {"done": "OK", "skipped": "--", "failed": "FAILED"}
        for item in result.items:
            line = f"{labels[item.outcome]:6} {item.class_name:6} {item.student}"
            if item.message:
                line += f": {item.message}"
            self.stdout.write(line)
        self.stdout.write(
            _("%(done)s done, %(skipped)s skipped, %(failed)s failed.")
            % {"done": result.done, "skipped": result.skipped, "failed": len(result.failed)}
        )
        if result.failed:
            raise CommandError(
                _("%(count)s transcript(s) failed.") % {"count": len(result.failed)}, returncode=1
            )
