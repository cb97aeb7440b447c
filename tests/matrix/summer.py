"""The class's Summer page (re-assessment and conduct after training): whoever opens the class
reads it; the form is the homeroom teacher's and the class's subject teachers' (an empty form
saves nothing and goes back to the page); another school's class is a 404."""

from tests.matrix import Row, everyone, school_a


def class_a(w: dict) -> dict:
    return {**school_a(w), "class_pk": w["class_a"].pk}


def class_a2(w: dict) -> dict:
    return {**school_a(w), "class_pk": w["class_a2"].pk}


def class_b(w: dict) -> dict:
    return {**school_a(w), "class_pk": w["class_b"].pk}


ROWS = [
    Row("gradebook:summer", class_a, everyone(200, outsider=404)),
    Row(
        "gradebook:summer",
        class_a2,
        everyone(200, teacher=403, homeroom=403, outsider=404),
        label="class not taught",
    ),
    Row("gradebook:summer", class_b, everyone(404), label="other school's class"),
    Row(
        "gradebook:summer",
        class_a,
        everyone(403, teacher=302, homeroom=302, outsider=404),
        label="empty form",
        method="POST",
    ),
    Row(
        "gradebook:summer",
        class_a2,
        everyone(403, outsider=404),
        label="empty form, class not taught",
        method="POST",
    ),
]
