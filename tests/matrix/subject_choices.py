"""Subject choices of a class of grades 10-12: its homeroom teacher and the admin open and
save them; a teacher of the class or the principal is refused (403); another school's class is
a 404; a class outside grades 10-12 has no such page (404)."""

from schools.models import ClassGroup
from tests.matrix import Row, everyone, school_a

UPPER = everyone(403, homeroom=200, admin=200, outsider=404)
SAVED = everyone(403, homeroom=302, admin=302, outsider=404)


def upper_a(w: dict) -> dict:
    year = w["school_a"].current_year()
    upper = ClassGroup.objects.create(
        year=year, name="10A1", grade=10, homeroom_teacher=w["users"]["homeroom"]
    )
    return {**school_a(w), "pk": upper.pk}


def lower_a(w: dict) -> dict:
    return {**school_a(w), "pk": w["class_a"].pk}


def class_b(w: dict) -> dict:
    return {**school_a(w), "pk": w["class_b"].pk}


ROWS = [
    Row("schools:class_subject_choices", upper_a, UPPER),
    Row("schools:class_subject_choices", upper_a, SAVED, label="save", method="POST"),
    Row(
        "schools:class_subject_choices",
        lower_a,
        everyone(403, homeroom=404, admin=404, outsider=404),
        label="grade 6",
    ),
    Row("schools:class_subject_choices", class_b, everyone(404), label="other school's class"),
]
