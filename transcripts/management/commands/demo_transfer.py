"""Demo of a transfer between two demo schools (docs/exports.md, "Transfers"): a student finished
grade 6 at THCS Nguyễn Du (the previous school year, signed and sealed there) and moved to the
benchmark school THCS Lê Quý Đôn for grade 7 (this year, signed and sealed there too). Nguyễn
Du exports the student's single package; Lê Quý Đôn receives it through the package verifier,
and the student's multi-year record then shows both years. A second student leaves Nguyễn Du
during term II of this year: the year so far is signed and exported with the marks of the year,
received by Lê Quý Đôn into a grade 6 class, and the marks are carried into its gradebook
(source "Transfer from another school" in each cell's history). Demo schools only.

    python manage.py seed_demo --students 180
    python manage.py demo_pki --school 01001001 --school 01009999 --password demo-ky-so
    python manage.py demo_transfer --password demo-ky-so
"""

from __future__ import annotations

import datetime
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from accounts.models import Membership, Role
from gradebook.demo import seed_class_marks
from schools.demo import LARGE_CODE, SECONDARY_CODE
from schools.models import ClassGroup, Enrollment, School, SchoolYear, Student, TeachingAssignment
from schools.services import create_school_year, renumber_class
from transcripts.models import JobStatus, PackageKind, ReceivedPackage, SignerRole, Transcript
from transcripts.packages.exports import run_export, start_export
from transcripts.pipeline import confirm_batch, sign_batch
from transcripts.signing.signers import Pkcs12Signer, SigningError
from transcripts.transfer_marks import CarryRefused, carry_received_marks
from transcripts.transfers import TransferRefused, receive_package
from transcripts.workflow import TRANSITIONS, incomplete_reasons, transcript_for

STUDENT_NAME = "Hoàng Gia Bảo"
LEAVER_NAME = "Vũ Minh Châu"


class Command(BaseCommand):
    help = (
        "Demo schools only: a student's grade 6 signed at 01001001 (last year), exported as a "
        "single package and received by 01009999, where grade 7 is signed this year."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--password", required=True, help="The demo certificates' password")

    def handle(self, *args: Any, **options: Any) -> None:
        password = options["password"]
        source = School.objects.filter(code=SECONDARY_CODE).first()
        target = School.objects.filter(code=LARGE_CODE).first()
        if source is None or target is None or target.current_year() is None:
            raise CommandError(
                "Run `manage.py seed_demo --students 180` first (both secondary demo schools)."
            )
        current = target.current_year()
        assert current is not None
        code = f"{source.code[-4:]}900001"
        student = self._student(source, code)
        previous = self._previous_year(source, current.start_year - 1)
        left_class = self._class(previous, source.current_year(), "6A1", student)
        self._sign(left_class, password)
        zip_path = self._export(source, previous, student, password)
        arrived = self._arrival(target, student)
        new_class = self._class(current, current, "7A1", arrived, name="7A9")
        self._sign(new_class, password)
        admin = Membership.objects.active().filter(school=target, role=Role.ADMIN).first()
        if admin is None:
            raise CommandError(f"{target.code} has no admin.")
        upload = SimpleUploadedFile("package.zip", zip_path.read_bytes())
        try:
            receive_package(actor=admin.user, school=target, student=arrived, upload=upload)
        except TransferRefused as exc:
            if not ReceivedPackage.objects.filter(student=arrived).exists():
                raise CommandError(f"{exc.message} {exc.problems}") from exc
        self.stdout.write(
            f"{arrived.full_name} ({code}): record at "
            f"/s/{target.code}/transcripts/students/{arrived.pk}/record/"
        )
        self._leaver(source, target, admin.user, password)

    def _leaver(self, source: School, target: School, admin, password: str) -> None:
        """A student leaves ``source`` in term II of this year; ``target`` receives the year so
        far and carries its marks into the gradebook of its first grade 6 class."""
        year, here = source.current_year(), target.current_year()
        assert year is not None and here is not None
        code = f"{source.code[-4:]}900002"
        student = self._student(source, code, name=LEAVER_NAME, personal_id="001314900002")
        left_class = self._class(year, year, "6A1", student, name="6A9")
        left_on = year.terms.get(number=2).starts_on + datetime.timedelta(days=45)
        Enrollment.objects.filter(student=student, class_group=left_class).update(left_on=left_on)
        self._sign(left_class, password)
        zip_path = self._export(source, year, student, password)
        arrived = self._arrival(target, student)
        new_class = ClassGroup.objects.filter(year=here, grade=6).order_by("name").first()
        if new_class is None:
            raise CommandError(f"{target.code} has no grade 6 class this year.")
        _enrollment, created = Enrollment.objects.get_or_create(
            student=arrived,
            class_group=new_class,
            defaults={"joined_on": left_on, "roll_number": 99},
        )
        if created:
            renumber_class(class_group=new_class)
        upload = SimpleUploadedFile("package.zip", zip_path.read_bytes())
        try:
            receive_package(actor=admin, school=target, student=arrived, upload=upload)
        except TransferRefused as exc:
            if not ReceivedPackage.objects.filter(student=arrived).exists():
                raise CommandError(f"{exc.message} {exc.problems}") from exc
        package = ReceivedPackage.objects.filter(student=arrived).latest("verified_at")
        try:
            _class_group, report = carry_received_marks(actor=admin, package=package)
        except CarryRefused as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"{arrived.full_name} ({code}) left {source.code} on {left_on}: {report.carried} "
            f"marks carried into {new_class.name} ({len(report.lines)} in the package); "
            f"/s/{target.code}/transcripts/students/{arrived.pk}/received/{package.pk}/marks/"
        )

    def _student(
        self,
        school: School,
        code: str,
        *,
        name: str = STUDENT_NAME,
        personal_id: str = "001214900001",
    ) -> Student:
        student, _ = Student.objects.get_or_create(
            school=school,
            student_code=code,
            defaults={
                "full_name": name,
                "sex": "M" if personal_id[3] == "2" else "F",
                "date_of_birth": datetime.date(2014, 4, 12),
                "place_of_birth": "Hà Nội",
                "personal_id": personal_id,
                "residence": "Số 12, phường Cầu Giấy, Hà Nội",
            },
        )
        return student

    def _previous_year(self, school: School, start: int) -> SchoolYear:
        found = school.years.filter(start_year=start).first()
        if found is not None:
            return found
        return create_school_year(
            school=school,
            start_year=start,
            term1=(datetime.date(start, 9, 5), datetime.date(start + 1, 1, 15)),
            term2=(datetime.date(start + 1, 1, 19), datetime.date(start + 1, 5, 25)),
            make_current=False,
        )

    @transaction.atomic
    def _class(
        self, year: SchoolYear, model_year, model: str, student: Student, name: str | None = None
    ) -> ClassGroup:
        """A class of ``year`` named ``name`` (default ``model``) holding ``student``, its
        homeroom teacher and subject teachers those of class ``model`` of ``model_year``, and
        a full year of marks."""
        template = ClassGroup.objects.get(year=model_year, name=model)
        class_group, created = ClassGroup.objects.get_or_create(
            year=year,
            name=name or model,
            defaults={"grade": template.grade, "homeroom_teacher": template.homeroom_teacher},
        )
        if created:
            for assignment in TeachingAssignment.objects.filter(class_group=template):
                TeachingAssignment.objects.get_or_create(
                    teacher=assignment.teacher, class_group=class_group, subject=assignment.subject
                )
            first = year.terms.order_by("number").first()
            Enrollment.objects.create(
                student=student,
                class_group=class_group,
                roll_number=1,
                joined_on=first.starts_on if first else None,
            )
            seed_class_marks(class_group)
        return class_group

    def _signer(self, school: School, holder: str, password: str, stack: ExitStack):
        path = Path(settings.MEDIA_ROOT) / "demo-pki" / f"{school.code}-{holder}.p12"
        if not path.exists():
            raise CommandError(
                f"{path} is missing: run manage.py demo_pki --school {school.code} first"
            )
        try:
            signer = Pkcs12Signer.from_bytes(path.read_bytes(), password)
        except SigningError as exc:
            raise CommandError(str(exc)) from exc
        stack.callback(signer.close)
        return signer

    def _sign(self, class_group: ClassGroup, password: str) -> None:
        school = class_group.year.school
        principal = Membership.objects.active().filter(school=school, role=Role.PRINCIPAL).first()
        teacher = class_group.homeroom_teacher
        if principal is None or teacher is None:
            raise CommandError(f"{school.code} has no principal or {class_group} no homeroom.")
        drafts = [
            transcript_for(student=e.student, class_group=class_group)
            for e in class_group.enrollments.select_related("student")
        ]
        for transcript in drafts:
            reasons = incomplete_reasons(transcript)
            if reasons:
                raise CommandError(f"{transcript} is not complete: {reasons[0]}")
        confirm_batch(actor=teacher, transcripts=drafts)
        with ExitStack() as stack:
            for role, actor, holder in (
                (SignerRole.HOMEROOM, teacher, teacher.username),
                (SignerRole.PRINCIPAL, principal.user, principal.user.username),
                (SignerRole.SEAL, principal.user, "seal"),
            ):
                waiting = Transcript.objects.filter(
                    class_group=class_group, state__in=TRANSITIONS[role][0]
                ).select_related("student", "class_group", "school")
                signer = self._signer(school, holder, password, stack)
                result = sign_batch(actor=actor, transcripts=waiting, role=role, signer=signer)
                if result.failed:
                    raise CommandError(f"{result.failed[0].student}: {result.failed[0].message}")
        self.stdout.write(f"{school.code} {class_group.year.name} {class_group.name}: signed")

    def _export(self, school: School, year: SchoolYear, student: Student, password: str) -> Path:
        package = start_export(
            actor=None, school=school, year=year, kind=PackageKind.SINGLE, student=student,
            only_final=False, secret=password, enqueue=False,
        )  # fmt: skip
        run_export(package.pk)
        package.refresh_from_db()
        if package.status != JobStatus.FINISHED:
            raise CommandError(f"The export failed: {package.message} {package.failures}")
        out = Path(settings.MEDIA_ROOT) / "demo-transfer" / f"{student.student_code}.zip"
        out.parent.mkdir(parents=True, exist_ok=True)
        with package.file.open("rb") as handle:
            out.write_bytes(handle.read())
        self.stdout.write(f"{school.code}: single package of {student.student_code} → {out}")
        return out

    def _arrival(self, school: School, student: Student) -> Student:
        """The same person at the new school: the national student code and identity."""
        fields = ("full_name", "sex", "date_of_birth", "place_of_birth", "personal_id",
                  "residence")  # fmt: skip
        arrived, _ = Student.objects.get_or_create(
            school=school,
            student_code=student.student_code,
            defaults={field: getattr(student, field) for field in fields},
        )
        return arrived
