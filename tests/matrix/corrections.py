"""Locks, submission and corrections: the leadership (principal) locks, unlocks and decides;
the assigned teacher submits; everyone of the school sees the correction list (filtered by
role); POST-only URLs answer GET with 405 once logged in. The correction form's query-string
cases are in tests/gradebook/test_corrections.py (the matrix builds URLs without a query)."""

from accounts.models import User
from gradebook.models import CorrectionRequest, Kind, Lock, Mark
from schools.models import ClassGroup
from tests.matrix import Row, everyone, school_a

POST_ONLY = everyone(405)
LEADERSHIP_PAGE = everyone(403, principal=200, outsider=404)
LEADERSHIP_FORM_ERRORS = everyone(403, principal=200, outsider=404)
LEADERSHIP_WRITE = everyone(403, principal=302, outsider=404)
ELSEWHERE = everyone(403, principal=404, outsider=404)
"""School B's object in a URL of school A: 404 for whoever may act in school A."""


def post(name: str, kwargs, expect: dict, label: str = "") -> Row:
    return Row(name, kwargs, expect, label=label, method="POST")


def _lock(class_group: ClassGroup, by: User) -> Lock:
    year = class_group.year
    return Lock.objects.create(
        school=year.school, year=year, term=1, kind="locked", reason="test", created_by=by
    )


def _correction(class_group: ClassGroup, by: User) -> CorrectionRequest:
    year = class_group.year
    mark = Mark.objects.create(
        school=year.school,
        year=year,
        term=1,
        student=class_group.enrollments.first().student,
        subject=year.school.subjects.get(code="TOAN"),
        kind=Kind.MIDTERM,
        value="5",
        version=1,
    )
    return CorrectionRequest.objects.create(
        school=year.school, mark=mark, class_group=class_group, old_value="5",
        new_value="6", reason="typo", requested_by=by,
    )  # fmt: skip


def submit(w: dict) -> dict:
    maths = w["school_a"].subjects.get(code="TOAN")
    return {**school_a(w), "class_pk": w["class_a"].pk, "subject_pk": maths.pk, "term": 1}


def lock_a(w: dict) -> dict:
    return {**school_a(w), "pk": _lock(w["class_a"], w["users"]["principal"]).pk}


def lock_b(w: dict) -> dict:
    return {**school_a(w), "pk": _lock(w["class_b"], w["users"]["outsider"]).pk}


def correction_a(w: dict) -> dict:
    return {**school_a(w), "pk": _correction(w["class_a"], w["users"]["teacher"]).pk}


def correction_b(w: dict) -> dict:
    return {**school_a(w), "pk": _correction(w["class_b"], w["users"]["outsider"]).pk}


ROWS = [
    Row("gradebook:submit", submit, POST_ONLY),
    # The teacher's incomplete book: refused with a message, back to the page.
    post("gradebook:submit", submit, everyone(403, teacher=302, outsider=404)),
    Row("gradebook:locks", school_a, LEADERSHIP_PAGE),
    Row("gradebook:lock_create", school_a, POST_ONLY),
    post("gradebook:lock_create", school_a, LEADERSHIP_FORM_ERRORS, label="empty form"),
    Row("gradebook:lock_date", school_a, POST_ONLY),
    post("gradebook:lock_date", school_a, LEADERSHIP_FORM_ERRORS, label="empty form"),
    Row("gradebook:unlock", lock_a, POST_ONLY),
    post("gradebook:unlock", lock_a, LEADERSHIP_WRITE, label="no reason"),
    post("gradebook:unlock", lock_b, ELSEWHERE, label="other school's lock"),
    Row("gradebook:corrections", school_a, everyone(200, outsider=404)),
    Row("gradebook:correction_new", school_a, everyone(404), label="no cell chosen"),
    post("gradebook:correction_new", school_a, everyone(404), label="no cell chosen"),
    Row("gradebook:correction_decide", correction_a, POST_ONLY),
    post("gradebook:correction_decide", correction_a, LEADERSHIP_WRITE, label="no decision"),
    post("gradebook:correction_decide", correction_b, ELSEWHERE, label="other school's request"),
]
