"""The gradebook grid. Subject books: the subject's teacher writes; the homeroom teacher and the
leadership (principal, admin) read; another teacher gets 403; school B's people 404. Homeroom
books: the homeroom teacher writes; the leadership reads; a subject teacher gets 403.

POST rows send an empty body: a writer gets 400 (incomplete request) from the cell endpoint and a
redirect from the row form (nothing to save); a reader gets 403 before the body is read."""

from tests.matrix import Row, everyone, school_a

READ = everyone(200, outsider=404)
"""A subject book of 6A1 × TOAN: everyone of school A may read it."""
HOMEROOM_READ = everyone(200, teacher=403, outsider=404)
"""The homeroom book of 6A1: not the subject teacher."""
POST_ONLY = everyone(405)


def maths(w: dict) -> dict:
    toan = w["school_a"].subjects.get(code="TOAN")
    return {**school_a(w), "class_pk": w["class_a"].pk, "subject_pk": toan.pk}


def literature(w: dict) -> dict:
    nv = w["school_a"].subjects.get(code="NV")
    return {**school_a(w), "class_pk": w["class_a"].pk, "subject_pk": nv.pk}


def other_class(w: dict) -> dict:
    toan = w["school_a"].subjects.get(code="TOAN")
    return {**school_a(w), "class_pk": w["class_a2"].pk, "subject_pk": toan.pk}


def school_b_class(w: dict) -> dict:
    toan = w["school_b"].subjects.get(code="TOAN")
    return {**school_a(w), "class_pk": w["class_b"].pk, "subject_pk": toan.pk}


def homeroom_book(w: dict) -> dict:
    return {**school_a(w), "class_pk": w["class_a"].pk}


def term(kwargs, number: int = 1):
    return lambda w: {**kwargs(w), "term": number}


def student(kwargs, key: str = "student_a"):
    return lambda w: {**kwargs(w), "student_pk": w[key].pk}


def post(name: str, kwargs, expect: dict, label: str = "") -> Row:
    return Row(name, kwargs, expect, label=label, method="POST")


ROWS = [
    # The term grid and its entry point.
    Row("gradebook:grid", term(maths), READ, label="own subject"),
    Row("gradebook:grid", term(maths, 2), READ, label="own subject, term II"),
    Row(
        "gradebook:grid",
        term(literature),
        everyone(200, teacher=403, outsider=404),
        label="a subject the teacher does not teach",
    ),
    Row(
        "gradebook:grid",
        term(other_class),
        everyone(200, teacher=403, homeroom=403, outsider=404),
        label="a class the teacher does not teach",
    ),
    Row("gradebook:grid", term(school_b_class), everyone(404), label="school B's class"),
    Row("gradebook:grid", term(maths, 3), everyone(404), label="no term 3"),
    Row("gradebook:grid_current", maths, everyone(302, outsider=404)),
    Row("gradebook:grid_year", maths, READ),
    Row("gradebook:grid_changes", term(maths), READ),
    Row("gradebook:explain", student(maths), READ),
    Row("gradebook:explain", student(maths, "student_b"), everyone(404), label="school B pupil"),
    Row("gradebook:cell_history", student(maths), READ),
    # Saving: the teacher of the subject only.
    Row("gradebook:cell_save", maths, POST_ONLY),
    post(
        "gradebook:cell_save",
        maths,
        everyone(403, teacher=400, outsider=404),
        label="empty body",
    ),
    Row(
        "gradebook:row_edit",
        student(term(maths)),
        everyone(403, teacher=200, outsider=404),
    ),
    post(
        "gradebook:row_edit",
        student(term(maths)),
        everyone(403, teacher=302, outsider=404),
        label="nothing to save",
    ),
    # The homeroom book.
    Row("gradebook:homeroom", term(homeroom_book), HOMEROOM_READ),
    Row("gradebook:homeroom_current", homeroom_book, everyone(302, teacher=403, outsider=404)),
    Row("gradebook:grid_changes", term(homeroom_book), HOMEROOM_READ, label="homeroom"),
    Row("gradebook:cell_history", student(homeroom_book), HOMEROOM_READ, label="homeroom"),
    Row("gradebook:cell_save", homeroom_book, POST_ONLY, label="homeroom"),
    post(
        "gradebook:cell_save",
        homeroom_book,
        everyone(403, homeroom=400, outsider=404),
        label="homeroom, empty body",
    ),
    Row(
        "gradebook:row_edit",
        student(term(homeroom_book)),
        everyone(403, homeroom=200, outsider=404),
        label="homeroom",
    ),
]
