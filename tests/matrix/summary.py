"""Class summary (and its .xlsx) and completion dashboards: the homeroom book's readers
(leadership/admin and the class's homeroom teacher); the school-wide completion matrix is for
leadership/admin only; the year-end decision lists for leadership only."""

from tests.matrix import Row, everyone, school_a

HOMEROOM_BOOK = everyone(200, teacher=403, outsider=404)
NO_HOMEROOM = everyone(200, teacher=403, homeroom=403, outsider=404)
ELSEWHERE = everyone(404)


def own_class(w: dict) -> dict:
    return {**school_a(w), "class_pk": w["class_a"].pk}


def other_class(w: dict) -> dict:
    return {**school_a(w), "class_pk": w["class_a2"].pk}


def school_b_class(w: dict) -> dict:
    return {**school_a(w), "class_pk": w["class_b"].pk}


ROWS = [
    *(
        row
        for name in ("gradebook:class_summary", "gradebook:class_summary_xlsx")
        for row in (
            Row(name, own_class, HOMEROOM_BOOK, label="own homeroom class"),
            Row(name, other_class, NO_HOMEROOM, label="another class"),
            Row(name, school_b_class, ELSEWHERE, label="other school's class"),
        )
    ),
    Row("gradebook:completion", school_a, everyone(403, principal=200, admin=200, outsider=404)),
    Row("gradebook:year_end", school_a, everyone(403, principal=200, outsider=404)),
    Row("gradebook:class_completion", own_class, HOMEROOM_BOOK, label="own homeroom class"),
    Row("gradebook:class_completion", other_class, NO_HOMEROOM, label="another class"),
    Row("gradebook:class_completion", school_b_class, ELSEWHERE, label="other school's class"),
]
