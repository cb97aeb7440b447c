"""Excel round-trip of a gradebook (readers export; only the assigned teacher imports) and the
school admin's gradebook settings and comment bank."""

from gradebook.models import CommentPhrase
from tests.matrix import Row, everyone, school_a

ADMIN_PAGE = everyone(403, admin=200, outsider=404)
ADMIN_WRITE = everyone(403, admin=302, outsider=404)
ELSEWHERE = everyone(403, admin=404, outsider=404)
TEACHER_ONLY = everyone(403, teacher=200, outsider=404)


def book(w: dict, class_key: str = "class_a", term: int = 1, subject: str = "TOAN") -> dict:
    subject_pk = w["school_a"].subjects.get(code=subject).pk
    return {**school_a(w), "class_pk": w[class_key].pk, "subject_pk": subject_pk, "term": term}


def phrase(w: dict, school_key: str = "school_a") -> dict:
    found, _ = CommentPhrase.objects.get_or_create(
        school=w[school_key], level="T", text="{name} học tốt."
    )
    return {**school_a(w), "pk": found.pk}


ROWS = [
    # Export: whoever may read the book.
    Row("gradebook:excel_export", book, everyone(200, outsider=404), label="own class"),
    Row(
        "gradebook:excel_export",
        lambda w: book(w, "class_a2"),
        everyone(200, teacher=403, homeroom=403, outsider=404),
        label="class not taught",
    ),
    Row("gradebook:excel_export", lambda w: book(w, "class_b"), everyone(404), label="school B"),
    Row(
        "gradebook:excel_export",
        lambda w: book(w, term=3),
        everyone(404),
        label="no such term",
    ),
    # Import: only a teacher assigned to the class × subject.
    Row("gradebook:excel_import", book, TEACHER_ONLY, label="maths"),
    Row(
        "gradebook:excel_import",
        lambda w: book(w, subject="NV"),
        everyone(403, homeroom=200, outsider=404),
        label="literature",
    ),
    Row("gradebook:excel_import", book, TEACHER_ONLY, label="empty upload", method="POST"),
    Row("gradebook:excel_import", lambda w: book(w, "class_b"), everyone(404), label="school B"),
    Row("gradebook:excel_import_confirm", book, everyone(405)),
    Row(
        "gradebook:excel_import_confirm",
        book,
        everyone(403, teacher=302, outsider=404),
        label="no preview",
        method="POST",
    ),
    # Settings and comment bank: the school admin.
    Row("gradebook:settings", school_a, ADMIN_PAGE),
    Row("gradebook:settings", school_a, ADMIN_PAGE, label="empty form", method="POST"),
    Row("gradebook:comment_bank", school_a, ADMIN_PAGE),
    Row("gradebook:comment_phrase_create", school_a, ADMIN_PAGE),
    Row("gradebook:comment_phrase_create", school_a, ADMIN_PAGE, label="empty", method="POST"),
    Row("gradebook:comment_phrase_edit", phrase, ADMIN_PAGE),
    Row("gradebook:comment_phrase_edit", phrase, ADMIN_PAGE, label="empty", method="POST"),
    Row(
        "gradebook:comment_phrase_edit",
        lambda w: phrase(w, "school_b"),
        ELSEWHERE,
        label="school B's phrase",
    ),
    Row("gradebook:comment_phrase_delete", phrase, ADMIN_PAGE),
    Row("gradebook:comment_phrase_delete", phrase, ADMIN_WRITE, method="POST"),
    Row(
        "gradebook:comment_phrase_delete",
        lambda w: phrase(w, "school_b"),
        ELSEWHERE,
        label="school B's phrase",
        method="POST",
    ),
]
