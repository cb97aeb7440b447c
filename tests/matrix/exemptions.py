"""Exemptions: everyone of the school sees the list (filtered by role); the class's homeroom
teacher and the admin ask; only the principal decides; another school's class or exemption is
a 404; the decision URL is POST only."""

from gradebook.models import Exemption
from schools.models import ClassGroup
from tests.matrix import Row, everyone, school_a

ASKS = everyone(403, homeroom=200, admin=200, outsider=404)
"""The form (GET) and an empty form (POST, shown again with its errors)."""
DECIDES = everyone(403, principal=302, outsider=404)
ELSEWHERE = everyone(403, principal=404, outsider=404)
"""School B's exemption in a URL of school A: 404 for the principal of school A."""


def post(name: str, kwargs, expect: dict, label: str = "") -> Row:
    return Row(name, kwargs, expect, label=label, method="POST")


def _exemption(class_group: ClassGroup) -> Exemption:
    year = class_group.year
    return Exemption.objects.create(
        school=year.school, year=year, class_group=class_group,
        student=class_group.enrollments.first().student,
        subject=year.school.subjects.get(code="GDTC"), term=1, reason="Chấn thương",
        document="QĐ 1", requested_by=year.school.memberships.first().user,
    )  # fmt: skip


def class_a(w: dict) -> dict:
    return {**school_a(w), "class_pk": w["class_a"].pk}


def class_b(w: dict) -> dict:
    return {**school_a(w), "class_pk": w["class_b"].pk}


def exemption_a(w: dict) -> dict:
    return {**school_a(w), "pk": _exemption(w["class_a"]).pk}


def exemption_b(w: dict) -> dict:
    return {**school_a(w), "pk": _exemption(w["class_b"]).pk}


ROWS = [
    Row("gradebook:exemptions", school_a, everyone(200, outsider=404)),
    Row("gradebook:exemption_new", class_a, ASKS),
    post("gradebook:exemption_new", class_a, ASKS, label="empty form"),
    Row("gradebook:exemption_new", class_b, everyone(404), label="other school's class"),
    Row("gradebook:exemption_decide", exemption_a, everyone(405)),
    post("gradebook:exemption_decide", exemption_a, DECIDES, label="no decision"),
    post("gradebook:exemption_decide", exemption_b, ELSEWHERE, label="other school's exemption"),
]
