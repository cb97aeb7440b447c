"""Confirm, sign and seal every complete transcript of a demo school's current year, as each
class's homeroom teacher and the principal would on the screens (the same pipeline), with the
demo certificates of ``demo_pki``. Demo schools only: for demos and benchmarks.

    python manage.py demo_sign_all --password demo-ky-so [--school CODE ...] [--class 6A1]
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import Membership, Role
from schools.demo import LARGE_CODE, PRIMARY_CODE, SECONDARY_CODE
from schools.models import ClassGroup, School
from transcripts.models import SignerRole, State, Transcript
from transcripts.pipeline import BatchResult, confirm_batch, sign_batch
from transcripts.signing.signers import Pkcs12Signer, SigningError
from transcripts.workflow import TRANSITIONS, incomplete_reasons, transcript_for

DEMO_SCHOOLS = (SECONDARY_CODE, PRIMARY_CODE, LARGE_CODE)


class Command(BaseCommand):
    help = (
        "Demo schools only: confirm, sign (homeroom teacher, principal) and seal every complete "
        "transcript of the current year with the demo certificates (their password: --password)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--password", required=True, help="The demo certificates' password")
        parser.add_argument("--school", action="append", dest="schools", choices=DEMO_SCHOOLS)
        parser.add_argument("--class", dest="class_name", help="Only this class")

    def handle(self, *args: Any, **options: Any) -> None:
        for school in School.objects.filter(code__in=options["schools"] or DEMO_SCHOOLS[:2]):
            self._school(school, options["password"], options["class_name"])

    def _school(self, school: School, password: str, class_name: str | None) -> None:
        year = school.current_year()
        principal = Membership.objects.active().filter(school=school, role=Role.PRINCIPAL).first()
        if year is None or principal is None:
            raise CommandError(f"{school.code} has no current year or no principal.")
        classes = ClassGroup.objects.filter(year=year, homeroom_teacher__isnull=False)
        if class_name:
            classes = classes.filter(name=class_name)
        started = time.perf_counter()
        with ExitStack() as stack:
            lead = {role: self._signer(school, principal.user, role, password, stack)
                    for role in (SignerRole.PRINCIPAL, SignerRole.SEAL)}  # fmt: skip
            for class_group in classes.order_by("grade", "name"):
                teacher = class_group.homeroom_teacher
                if teacher is None:  # not among the classes chosen above
                    continue
                drafts = [
                    transcript_for(student=e.student, class_group=class_group)
                    for e in class_group.enrollments.current().select_related("student")
                ]
                complete = [t for t in drafts if not incomplete_reasons(t)]
                confirmed = confirm_batch(actor=teacher, transcripts=complete)
                homeroom = self._signer(school, teacher, SignerRole.HOMEROOM, password, stack)
                results = [confirmed]
                for role, actor, signer in (
                    (SignerRole.HOMEROOM, teacher, homeroom),
                    (SignerRole.PRINCIPAL, principal.user, lead[SignerRole.PRINCIPAL]),
                    (SignerRole.SEAL, principal.user, lead[SignerRole.SEAL]),
                ):
                    waiting = Transcript.objects.filter(
                        class_group=class_group, state__in=TRANSITIONS[role][0]
                    ).select_related("student", "class_group", "school")
                    results.append(
                        sign_batch(actor=actor, transcripts=waiting, role=role, signer=signer)
                    )
                self._report(school, class_group, len(drafts), results)
        self.stdout.write(f"{school.code}: {time.perf_counter() - started:.1f} s")

    def _signer(self, school, user, role, password: str, stack: ExitStack):
        """The holder's demo PKCS#12 file (``manage.py demo_pki``), whatever way they sign on
        the screens (``manage.py demo_signing`` gives some of them a remote service or a USB
        token): this command signs the whole demo at once, as the server."""
        holder = "seal" if role == SignerRole.SEAL else user.username
        path = Path(settings.MEDIA_ROOT) / "demo-pki" / f"{school.code}-{holder}.p12"
        if not path.exists():
            raise CommandError(f"{path} is missing: run manage.py demo_pki first")
        try:
            signer = Pkcs12Signer.from_bytes(path.read_bytes(), password)
        except SigningError as exc:
            raise CommandError(str(exc)) from exc
        stack.callback(signer.close)
        return signer

    def _report(self, school, class_group, students: int, results: list[BatchResult]) -> None:
        final = Transcript.objects.filter(class_group=class_group, state=State.FINAL).count()
        failed = [item for result in results for item in result.failed]
        line = f"{school.code} {class_group.name}: {final} of {students} final"
        if failed:
            line += f", {len(failed)} failed (first: {failed[0].student}: {failed[0].message})"
        self.stdout.write(line)
