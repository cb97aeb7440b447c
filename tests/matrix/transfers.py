"""Transfers in and the multi-year record (hocba:record*, hocba:receive, hocba:received_download,
hocba:received_marks).

- The record and its reading copy: whoever may see the student (the leadership and the admin,
  the student's teachers and homeroom teacher); another school's student is a 404.
- Receiving a package: the school admin only (403 for the other roles, even the principal).
- Carrying a received package's marks into the gradebook: the school admin only, like
  receiving; here the package carries no marks, so the admin's page says so (200) and the carry
  is refused (400).
- A received year's file: the record's readers; here the row's files are not stored, so those
  who may read get 404 (the download itself is tested in tests/transcripts/test_transfers.py).
"""

import uuid

from django.utils import timezone

from tests.matrix import Row, everyone, school_a
from transcripts.models import ReceivedDocument, ReceivedPackage

READERS = everyone(200, outsider=404)
NOT_TAUGHT = everyone(200, teacher=403, homeroom=403, outsider=404)
ADMIN_ONLY = everyone(403, admin=200, outsider=404)


def own_student(w: dict) -> dict:
    return {**school_a(w), "student_pk": w["student_a"].pk}


def untaught_student(w: dict) -> dict:
    return {**school_a(w), "student_pk": w["class_a2"].enrollments.first().student.pk}


def school_b_student(w: dict) -> dict:
    return {**school_a(w), "student_pk": w["student_b"].pk}


def received(w: dict, student=None) -> dict:
    """A received year of school A's student (rows only: no file stored)."""
    student = student or w["student_a"]
    package, _ = ReceivedPackage.objects.get_or_create(
        school=w["school_a"], student=student, sha256="0" * 64,
        defaults={"source_school_code": "SCHOOLX", "source_school_name": "X",
                  "verified_at": timezone.now(), "received_by": w["users"]["admin"]},
    )  # fmt: skip
    document, _ = ReceivedDocument.objects.get_or_create(
        package=package, school=w["school_a"], student=student, transcript_id=uuid.UUID(int=1),
        version=1, defaults={"year_label": "2024-2025", "grade": 6, "class_name": "6A3"},
    )  # fmt: skip
    return {**school_a(w), "student_pk": student.pk, "pk": document.pk, "kind": "pdf"}


def received_package(w: dict, student_key: str = "student_a") -> dict:
    """School A's received package (no marks), addressed through ``student_key``'s record."""
    document = ReceivedDocument.objects.get(pk=received(w)["pk"])
    return {**school_a(w), "student_pk": w[student_key].pk, "pk": document.package_id}


def received_untaught(w: dict) -> dict:
    return received(w, w["class_a2"].enrollments.first().student)


ROWS = [
    Row("hocba:record", own_student, READERS, label="own student"),
    Row("hocba:record", untaught_student, NOT_TAUGHT, label="student not taught"),
    Row("hocba:record", school_b_student, everyone(404), label="other school's student"),
    Row("hocba:record_pdf", own_student, READERS, label="own student"),
    Row("hocba:record_pdf", school_b_student, everyone(404), label="other school's student"),
    Row("hocba:receive", own_student, ADMIN_ONLY, label="own student"),
    Row(
        "hocba:receive",
        own_student,
        everyone(403, admin=400, outsider=404),
        label="own student, empty form",
        method="POST",
    ),
    Row(
        "hocba:receive",
        school_b_student,
        everyone(403, admin=404, outsider=404),
        label="other school's student",
    ),
    Row("hocba:received_marks", received_package, ADMIN_ONLY, label="own student's package"),
    Row(
        "hocba:received_marks",
        received_package,
        everyone(403, admin=400, outsider=404),
        label="own student's package, carry",
        method="POST",
    ),
    Row(
        "hocba:received_marks",
        lambda w: received_package(w, "student_b"),
        everyone(403, admin=404, outsider=404),
        label="other school's student",
    ),
    Row(
        "hocba:received_download",
        received,
        everyone(404),
        label="own student's, no file stored",
    ),
    Row(
        "hocba:received_download",
        received_untaught,
        everyone(404, teacher=403, homeroom=403),
        label="student not taught, no file stored",
    ),
]
