"""The row form: every cell of one student's row, saved in one transaction (all or nothing).

The form carries, per cell, the text it was rendered with and the version the user saw. A cell
whose text was not changed is left alone (even if someone else changed it meanwhile); a changed
cell is saved with the version the user saw, so a concurrent change is a conflict, never a silent
overwrite.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from accounts.http import AuthenticatedRequest
from accounts.models import User
from gradebook.columns import Column
from gradebook.grid.book import Book
from gradebook.grid.display import display_value
from gradebook.models import EventSource, Mark
from gradebook.services import (
    Conflict,
    GradebookError,
    cell_lock,
    lock_message,
    save_mark,
    settings_for,
)
from gradebook.views.grid import book_kwargs, checked_term, get_book, get_enrollment, grid_url
from schools.access import SchoolAccess
from schools.models import Enrollment, Student


@dataclass
class RowField:
    """One cell of the row form."""

    column: Column
    text: str
    original: str
    version: int
    error: str = ""

    @property
    def name(self) -> str:
        return f"cell-{self.column.key}"

    @property
    def version_name(self) -> str:
        return f"version-{self.column.key}"

    @property
    def original_name(self) -> str:
        return f"original-{self.column.key}"

    @property
    def html_id(self) -> str:
        return "cell-" + self.column.key.replace(":", "-").rstrip("-")


def row_fields(
    columns: list[Column], marks: dict[tuple[str, str], Mark], *, language: str
) -> list[RowField]:
    fields = []
    for column in columns:
        mark = marks.get((column.kind, column.slot))
        shown = display_value(mark.value, column.value_type, language) if mark else ""
        fields.append(
            RowField(column=column, text=shown, original=shown, version=mark.version if mark else 0)
        )
    return fields


def save_row(
    *,
    actor: User,
    book: Book,
    student: Student,
    fields: list[RowField],
    data: Mapping[str, str],
    client_ip: str | None,
) -> int | None:
    """Save every changed cell of the row in one transaction. Returns how many cells changed,
    or None when a cell was refused: then nothing is saved and each refused field carries its
    error (the fields keep what the user typed)."""
    changed = 0
    refused = False
    with transaction.atomic():
        for field in fields:
            if field.name not in data:
                continue  # a disabled (read-only) input is not sent
            field.text = data[field.name]
            field.original = data.get(field.original_name, field.original)
            if field.text == field.original:
                continue  # untouched by the user: leave it as it is now
            try:
                field.version = int(data.get(field.version_name, ""))
                result = save_mark(
                    actor=actor,
                    class_group=book.class_group,
                    student=student,
                    column=field.column,
                    text=field.text,
                    base_version=field.version,
                    source=EventSource.ROW_FORM,
                    client_ip=client_ip,
                )
            except ValueError:
                field.error = _("This form is out of date: reload it.")
                refused = True
            except Conflict as conflict:
                field.error = conflict_message(field, conflict)
                field.version = conflict.mark.version  # saving again keeps the typed value
                refused = True
            except GradebookError as error:
                field.error = error.message
                refused = True
            else:
                changed += int(result.changed)
        if refused:
            transaction.set_rollback(True)
            return None
    return changed


def conflict_message(field: RowField, conflict: Conflict) -> str:
    current = display_value(conflict.mark.value, field.column.value_type, get_language())
    return _(
        "Someone else changed this cell meanwhile; it now holds “%(value)s”. Save again to "
        "replace it with your value, or type that value to keep it."
    ) % {"value": current or _("(empty)")}


# --- The view -----------------------------------------------------------------------------------


def row_edit(
    request: AuthenticatedRequest,
    code: str,
    class_pk: int,
    term: int,
    student_pk: int,
    subject_pk: int | None = None,
) -> HttpResponse:
    """Every cell of one student's row in one form, saved in one transaction: all or nothing."""
    access, book = get_book(request, code, class_pk, subject_pk, write=True)
    term = checked_term(term)
    enrollment = get_enrollment(book, student_pk)
    columns = book.columns(term)
    lock = cell_lock(class_group=book.class_group, column=columns[0])
    marks = {(m.kind, m.slot): m for m in book.marks([student_pk]).filter(term=term)}
    fields = row_fields(columns, marks, language=get_language())
    read_only = lock is not None or enrollment.left_on is not None
    problem = ""
    if request.method == "POST":
        if read_only:
            problem = lock_message(lock) if lock else _("This student has left the class.")
        else:
            saved = save_row(
                actor=request.user,
                book=book,
                student=enrollment.student,
                fields=fields,
                data=request.POST,
                client_ip=request.META.get("REMOTE_ADDR"),
            )
            if saved is not None:
                return after_row_saved(request, access, book, term, enrollment, saved)
            problem = _("Nothing was saved: correct the cells marked below and save again.")
    return render(
        request,
        "gradebook/row_edit.html",
        {
            "access": access,
            "class_group": book.class_group,
            "entry": book.entry,
            "book": book,
            "term": term,
            "enrollment": enrollment,
            "student": enrollment.student,
            "fields": fields,
            "lock": lock,
            "lock_message": lock_message(lock) if lock else "",
            "read_only": read_only,
            "problem": problem,
            "grid_url": grid_url(access, book, term),
            "history_url": reverse(
                "gradebook:cell_history", kwargs=book_kwargs(access, book, student_pk=student_pk)
            ),
            "correction_query": correction_query(book, student_pk),
            "comment_max": settings_for(access.school.pk).comment_max_length,
        },
    )


def correction_query(book: Book, student_pk: int) -> str:
    """The query string of a correction request for this row (the column is appended)."""
    params = {"class": book.class_group.pk, "student": student_pk}
    if book.subject_id is not None:
        params["subject"] = book.subject_id
    return urlencode(params)


def after_row_saved(
    request: AuthenticatedRequest,
    access: SchoolAccess,
    book: Book,
    term: int,
    enrollment: Enrollment,
    saved: int,
) -> HttpResponse:
    name = enrollment.student.full_name
    if saved:
        message = ngettext(
            "%(count)s change saved for %(name)s.", "%(count)s changes saved for %(name)s.", saved
        )
        messages.success(request, message % {"count": saved, "name": name})
    else:
        messages.info(request, _("Nothing changed for %(name)s.") % {"name": name})
    if "next" in request.POST:
        following = (
            book.class_group.enrollments.filter(
                left_on__isnull=True, roll_number__gt=enrollment.roll_number
            )
            .order_by("roll_number")
            .values_list("student_id", flat=True)
            .first()
        )
        if following is not None:
            return redirect(
                "gradebook:row_edit", **book_kwargs(access, book, term=term, student_pk=following)
            )
    return redirect(grid_url(access, book, term))
