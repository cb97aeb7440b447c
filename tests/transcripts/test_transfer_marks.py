"""Issue 16, item 4: the marks of an unfinished term travel with a student who changes school
during the year, and are carried into the new school's gradebook as recorded, attributed values.

The package is built once for the module (in a transaction rolled back): at school SCHOOLA,
student HS000001 of 6A1 has term I complete and two term II marks typed in the grid, leaves on
2 March 2026 (term II), and the year so far is signed and exported as a single package. School
SCHOOLB receives it for the same student (the national student code), in its class 6B1.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import io
import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import override_settings
from django.urls import reverse

from accounts.models import Role
from gradebook.corrections import find_column
from gradebook.ledger import verify as verify_ledger
from gradebook.locks import lock
from gradebook.models import EventSource, Mark, MarkEvent
from gradebook.services import save_mark
from gradebook.transfers import Outcome, TransferredMark, carry_marks
from schools.models import ClassGroup, CurriculumEntry, Student
from schools.setup_services import transfer_student_out
from tests.conftest import add_students, make_school, make_user
from tests.gradebook.marks import all_scored, homeroom_marks, year_of
from tests.transcripts.conftest import export_now, finalise, stored
from tests.transcripts.test_package_verify import member, rewrite, run_script
from transcripts.models import CredentialKind, PackageKind, SignerRole, SigningCredential
from transcripts.packages import format as fmt
from transcripts.packages.build import _leaver_marks
from transcripts.packages.marks import MarksError, parse_marks
from transcripts.packages.verify import verify_package
from transcripts.signing.signers import encrypt_at_rest
from transcripts.transfer_marks import CarryRefused, carry_received_marks
from transcripts.transfers import receive_package
from transcripts.workflow import transcript_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

CODE = "HS000001"
MARKS = fmt.marks_path(CODE)
LEFT_ON = datetime.date(2026, 3, 2)  # term II: term I ended on 15/01/2026


@dataclasses.dataclass(frozen=True)
class Leaver:
    single: bytes
    ca_pem: Path
    #: The sending school's ledger events of the two term II marks: (seq, hash).
    events: dict[str, tuple[int, str]]


def _type(actor, class_group, student, code: str, key: str, text: str) -> MarkEvent:
    subject = class_group.year.school.subjects.get(code=code)
    column = find_column(class_group, subject.pk, key)
    result = save_mark(actor=actor, class_group=class_group, student=student, column=column,
                       text=text, base_version=None)  # fmt: skip
    return result.event


@pytest.fixture(scope="module")
def leaver(django_db_setup, django_db_blocker, tmp_path_factory, pki, role_p12, role_signers):
    directory = tmp_path_factory.mktemp("leaver")
    with (
        django_db_blocker.unblock(),
        override_settings(
            MEDIA_ROOT=str(directory / "media"),
            SIGNING_TRUST_ANCHORS=[str(pki.ca_pem)],
            SITE_URL="https://hocba.example",
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        ),
        transaction.atomic(),
    ):
        school = make_school("SCHOOLA", "Trường THCS Ánh Dương")
        homeroom = make_user("homeroom", school, Role.TEACHER, totp=True)
        principal = make_user("principal", school, Role.PRINCIPAL, totp=True)
        admin = make_user("admin", school, Role.ADMIN)
        for role, user in ((SignerRole.HOMEROOM, homeroom), (SignerRole.PRINCIPAL, principal),
                           (SignerRole.SEAL, None)):  # fmt: skip
            SigningCredential.objects.create(
                school=school, user=user, kind=CredentialKind.PKCS12,
                pkcs12_encrypted=encrypt_at_rest(role_p12[role]),
            )  # fmt: skip
        class_group = ClassGroup.objects.create(
            year=school.current_year(), name="6A1", grade=6, homeroom_teacher=homeroom
        )
        (student,) = add_students(class_group, [("Nguyễn Văn Bình", "M")], 1)
        year_of(class_group, student, all_scored("8"), terms=(1,))
        homeroom_marks(student, conduct=("T",), absences=(1,))
        maths = _type(homeroom, class_group, student, "TOAN", "2:tx:1", "9")
        informatics = _type(homeroom, class_group, student, "TIN", "2:tx:1", "6.5")
        transfer_student_out(enrollment=class_group.enrollments.get(), left_on=LEFT_ON)
        finalise(transcript_for(student=student, class_group=class_group), homeroom, principal,
                 role_signers)  # fmt: skip
        package = export_now(admin, school, kind=PackageKind.SINGLE, student=student)
        single = stored(package.file)
        transaction.set_rollback(True)
    events = {"TOAN": (maths.seq, maths.hash), "TIN": (informatics.seq, informatics.hash)}
    return Leaver(single, pki.ca_pem, events)


@pytest.fixture
def arrived(school_b, outsider, settings, leaver, tmp_path):
    """Student HS000001 at school B in class 6B1, which does not study Tin học."""
    settings.SIGNING_TRUST_ANCHORS = [str(leaver.ca_pem)]
    settings.MEDIA_ROOT = str(tmp_path / "media")
    class_group = ClassGroup.objects.create(
        year=school_b.current_year(), name="6B1", grade=6, homeroom_teacher=outsider
    )
    add_students(class_group, [("Nguyễn Văn Bình", "M")], 1)
    CurriculumEntry.objects.filter(year=class_group.year, grade=6, subject__code="TIN").delete()
    return Student.objects.get(school=school_b, student_code=CODE)


def received(arrived, outsider, leaver):
    upload = SimpleUploadedFile("package.zip", leaver.single, content_type="application/zip")
    return receive_package(actor=outsider, school=arrived.school, student=arrived, upload=upload)


def carry(package, outsider, **options):
    return carry_received_marks(actor=outsider, package=package, **options)[1]


def outcomes(report) -> dict[tuple[str, int, str, str], str]:
    return {line.mark.cell: line.outcome for line in report.lines}


# --- the package ----------------------------------------------------------------------------


def test_the_single_package_of_a_leaver_carries_the_marks_of_the_year(leaver):
    report = verify_package(io.BytesIO(leaver.single), anchor_paths=[leaver.ca_pem])
    assert report.ok, report.problems
    entry = report.manifest.file(MARKS)
    data = member(leaver.single, MARKS)
    assert entry is not None and entry.sha256 == hashlib.sha256(data).hexdigest()
    document = parse_marks(data)
    assert (document.school_code, document.school_year, document.student_code) == (
        "SCHOOLA",
        "2025-2026",
        CODE,
    )
    assert document.left_on == LEFT_ON
    by_cell = {mark.cell: mark for mark in document.marks}
    maths = by_cell[("TOAN", 2, "tx", "1")]
    assert maths.value == "9"
    assert (maths.event_seq, maths.event_hash) == leaver.events["TOAN"]
    assert by_cell[("TOAN", 1, "ck", "")].value == "8"
    assert by_cell[("", 1, "conduct", "")].value == "T"


def test_a_changed_marks_member_is_refused_by_the_verifier(leaver):
    data = json.loads(member(leaver.single, MARKS))
    data["marks"][0]["value"] = "10"
    tampered = rewrite(leaver.single, change={MARKS: json.dumps(data).encode()})
    report = verify_package(io.BytesIO(tampered), anchor_paths=[leaver.ca_pem])
    assert not report.ok
    assert [(p.member, p.message) for p in report.problems] == [
        (MARKS, "The file's size or SHA-256 differs from the manifest.")
    ]


def test_a_dropped_or_unlisted_marks_member_is_refused_by_the_verifier(leaver):
    dropped = rewrite(leaver.single, change={MARKS: None})
    report = verify_package(io.BytesIO(dropped), anchor_paths=[leaver.ca_pem])
    assert (MARKS, "The manifest lists this file but the package lacks it.") in [
        (p.member, p.message) for p in report.problems
    ]
    other = fmt.marks_path("HS000002")
    added = rewrite(leaver.single, add={other: member(leaver.single, MARKS)})
    report = verify_package(io.BytesIO(added), anchor_paths=[leaver.ca_pem])
    assert (other, "This file is in the package but not in the manifest.") in [
        (p.member, p.message) for p in report.problems
    ]


def test_the_documented_standard_tools_check_the_marks_member(leaver, tmp_path):
    run = run_script(leaver.single, leaver.ca_pem, tmp_path)
    assert run.returncode == 0, run.stderr
    tampered = rewrite(leaver.single, change={MARKS: member(leaver.single, MARKS) + b" "})
    run = run_script(tampered, leaver.ca_pem, tmp_path)
    assert run.returncode != 0
    assert "SHA-256 differs" in run.stderr


def one_mark(**changes: object) -> dict[str, list[dict[str, object]]]:
    mark = {"subject": "TOAN", "term": 1, "kind": "tx", "slot": "1", "value": "9",
            "event_seq": None, "event_hash": None}  # fmt: skip
    return {"marks": [{**mark, **changes}]}


@pytest.mark.parametrize(
    "change",
    [
        {"format": "other"},
        {"grade": "6"},
        {"left_on": "2 March"},
        {"extra": 1},
        one_mark(term=3),
        one_mark(kind="unknown"),
        one_mark(event_seq=3),
        one_mark(value=""),
        {"marks": one_mark()["marks"] * 2},
    ],
)
def test_a_marks_document_that_does_not_hold_together_is_refused(leaver, change):
    data = {**json.loads(member(leaver.single, MARKS)), **change}
    with pytest.raises(MarksError):
        parse_marks(json.dumps(data).encode())


def test_only_a_student_who_left_before_the_year_ended_carries_marks(class_a):
    student = class_a.enrollments.first().student
    year = class_a.year
    year_of(class_a, student, all_scored("7"), terms=(1,))
    assert _leaver_marks(class_a.year.school, year, student) is None  # still in the class
    enrollment = class_a.enrollments.get(student=student)
    transfer_student_out(enrollment=enrollment, left_on=LEFT_ON)
    document = parse_marks(_leaver_marks(class_a.year.school, year, student))
    assert {mark.value for mark in document.marks} == {"7", "D"}  # scores, comment subjects
    assert (document.class_name, document.grade) == ("6A1", 6)
    enrollment.left_on = datetime.date(2026, 5, 25)  # the year's last day: the whole year
    enrollment.save()
    assert _leaver_marks(class_a.year.school, year, student) is None


# --- carrying -------------------------------------------------------------------------------


def test_carrying_writes_the_marks_attributed_to_the_sending_school(arrived, outsider, leaver):
    package = received(arrived, outsider, leaver)
    assert package.report["marks"] == MARKS
    report = carry(package, outsider)
    assert report.written and report.carried > 0
    mark = Mark.objects.get(student=arrived, term=2, subject__code="TOAN", kind="tx", slot="1")
    assert mark.value == "9"
    event = mark.events.get()
    assert event.source == EventSource.TRANSFER
    assert event.actor == outsider
    assert "Trường THCS Ánh Dương (school code SCHOOLA)" in event.reason
    assert package.sha256 in event.reason
    assert f"their ledger event #{leaver.events['TOAN'][0]}" in event.reason
    assert verify_ledger(arrived.school).ok


def test_a_subject_the_class_does_not_study_is_listed_not_carried(arrived, outsider, leaver):
    report = carry(received(arrived, outsider, leaver), outsider)
    assert outcomes(report)[("TIN", 2, "tx", "1")] == Outcome.NOT_STUDIED
    assert not Mark.objects.filter(student=arrived, subject__code="TIN").exists()


def test_a_cell_already_holding_a_value_is_kept_as_a_conflict(arrived, outsider, leaver):
    class_group = arrived.enrollments.get().class_group
    _type(outsider, class_group, arrived, "TOAN", "1:tx:1", "5")
    report = carry(received(arrived, outsider, leaver), outsider)
    conflict = next(line for line in report.lines if line.mark.cell == ("TOAN", 1, "tx", "1"))
    assert (conflict.outcome, conflict.current, conflict.mark.value) == (Outcome.CONFLICT, "5", "8")
    assert Mark.objects.get(student=arrived, term=1, subject__code="TOAN", kind="tx",
                            slot="1").value == "5"  # fmt: skip


def test_a_locked_book_refuses_its_cells_one_by_one(arrived, outsider, leaver):
    class_group = arrived.enrollments.get().class_group
    maths = arrived.school.subjects.get(code="TOAN")
    lock(actor=outsider, school=arrived.school, year=class_group.year, term=2,
         class_group=class_group, subject=maths, reason="Kiểm tra")  # fmt: skip
    package = received(arrived, outsider, leaver)
    preview = carry(package, outsider, apply=False)
    assert outcomes(preview)[("TOAN", 2, "tx", "1")] == Outcome.REFUSED
    report = carry(package, outsider)
    line = next(line for line in report.lines if line.mark.cell == ("TOAN", 2, "tx", "1"))
    assert line.outcome == Outcome.REFUSED and "Kiểm tra" in line.message
    assert outcomes(report)[("TOAN", 1, "tx", "1")] == Outcome.CARRIED
    assert not Mark.objects.filter(student=arrived, term=2, subject__code="TOAN").exists()


def test_carrying_twice_writes_nothing_the_second_time(arrived, outsider, leaver):
    package = received(arrived, outsider, leaver)
    first = carry(package, outsider)
    events = MarkEvent.objects.filter(school=arrived.school).count()
    second = carry(package, outsider)
    assert second.carried == 0
    assert len(second.of(Outcome.PRESENT)) == first.carried
    assert MarkEvent.objects.filter(school=arrived.school).count() == events
    assert verify_ledger(arrived.school).ok


def test_the_preview_writes_nothing(arrived, outsider, leaver):
    report = carry(received(arrived, outsider, leaver), outsider, apply=False)
    assert not report.written and report.carried > 0
    assert not MarkEvent.objects.filter(school=arrived.school).exists()


def test_the_preview_reads_a_bounded_number_of_rows(arrived, outsider):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    class_group = arrived.enrollments.get().class_group

    def preview(slots: list[tuple[str, str]]) -> int:
        marks = [TransferredMark("TOAN", 1, kind, slot, "8") for kind, slot in slots]
        with CaptureQueriesContext(connection) as queries:
            carry_marks(actor=outsider, class_group=class_group, student=arrived, marks=marks,
                        reason=str, apply=False)  # fmt: skip
        return len(queries)

    preview([("tx", "1")])  # the first reads the class's year once
    few = preview([("tx", "1")])
    assert preview([("tx", "1"), ("tx", "2"), ("tx", "3"), ("gk", ""), ("ck", "")]) == few


def test_a_student_not_in_a_class_this_year_has_nowhere_to_carry(arrived, outsider, leaver):
    package = received(arrived, outsider, leaver)
    arrived.enrollments.update(left_on=datetime.date(2026, 4, 1))
    with pytest.raises(CarryRefused, match="not in a class of this school's current year"):
        carry(package, outsider)


def test_a_stored_package_changed_after_verification_is_refused(
    arrived, outsider, leaver, settings
):
    package = received(arrived, outsider, leaver)
    on_disk = Path(settings.MEDIA_ROOT) / package.file.name  # changed behind the storage's back
    on_disk.write_bytes(on_disk.read_bytes() + b"x")
    with pytest.raises(CarryRefused, match="not the one that was verified"):
        carry(package, outsider)


# --- pages ----------------------------------------------------------------------------------


def test_the_admin_previews_carries_and_the_grid_history_names_the_transfer(
    client, arrived, outsider, leaver
):
    client.force_login(outsider)
    code = arrived.school.code
    upload = SimpleUploadedFile("package.zip", leaver.single, content_type="application/zip")
    response = client.post(reverse("hocba:receive", args=[code, arrived.pk]), {"package": upload})
    package = arrived.received_packages.get()
    url = reverse("hocba:received_marks", args=[code, arrived.pk, package.pk])
    assert response.url == url
    page = client.get(url).content.decode()
    assert "To be carried" in page and "does not study this subject" in page
    page = client.post(url, follow=True).content.decode()
    assert "marks carried into the gradebook of class 6B1" in page
    class_group = arrived.enrollments.get().class_group
    maths = arrived.school.subjects.get(code="TOAN")
    history = reverse(
        "gradebook:cell_history",
        kwargs={"code": code, "class_pk": class_group.pk, "subject_pk": maths.pk,
                "student_pk": arrived.pk},
    )  # fmt: skip
    page = client.get(history, {"column": "2:tx:1"}).content.decode()
    assert "Transfer from another school" in page
    assert package.sha256 in page
