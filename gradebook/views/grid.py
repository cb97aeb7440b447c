"""The gradebook grid: one term of a class's subject or homeroom book, edited cell by cell with
autosave (`cell_save`) and kept fresh by polling (`grid_changes`), and a read-only year view.
"Show the calculation" and per-cell history are in `grid_history`; the plain row form for
browsers without JavaScript in `grid_rows`.

Every read goes through `get_subject_gradebook` / `get_homeroom_book`; every write through
`save_mark`.
"""

from __future__ import annotations

import datetime
import json

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.http import AuthenticatedRequest
from config.numbers import ID_MAX, POSITIVE_INTEGER_MAX, whole_number
from gradebook import hot
from gradebook.grid.book import Book, comment_phrases, with_study_plan
from gradebook.grid.changes import changes_since
from gradebook.grid.display import display_value
from gradebook.grid.page import build_grid, build_year, year_headers
from gradebook.grid.results import row_results
from gradebook.locks import lock_panel
from gradebook.models import EventSource
from gradebook.services import (
    Conflict,
    GradebookError,
    Locked,
    lock_message,
    save_mark,
    settings_for,
)
from schools.access import (
    SchoolAccess,
    get_homeroom_book,
    get_school,
    get_subject_cell,
    get_subject_gradebook,
)
from schools.models import ClassGroup, Enrollment

# --- Access ------------------------------------------------------------------------------------


def get_book(
    request: AuthenticatedRequest,
    code: str,
    class_pk: int,
    subject_pk: int | None,
    *,
    write: bool = False,
) -> tuple[SchoolAccess, Book]:
    """The subject book (or, without `subject_pk`, the homeroom book) through the access getters:
    404 outside the user's school, 403 for a user who may not read (or write) it."""
    access = get_school(request, code)
    return access, open_book(access, class_pk, subject_pk, write=write)[0]


def open_book(
    access: SchoolAccess, class_pk: int, subject_pk: int | None, *, write: bool = False
) -> tuple[Book, bool]:
    """The book through the access getters (as `get_book`), and whether the user writes it
    when it is open: its assigned teacher, or the homeroom book's homeroom teacher."""
    if subject_pk is None:
        class_group = get_homeroom_book(access, class_pk, write=write)
        return Book(class_group), class_group.homeroom_teacher_id == access.user.pk
    found = get_subject_gradebook(access, class_pk, subject_pk, write=write)
    return with_study_plan(Book(found.class_group, found.entry)), found.teaches


def get_cell_book(
    request: AuthenticatedRequest,
    code: str,
    class_pk: int,
    subject_pk: int | None,
    student_pk: int | None,
) -> tuple[Book, Enrollment | None]:
    """The book a cell save writes (as `get_book(write=True)`) and the student's enrolment in
    its class (None when the student is not in it or not given). A subject book's comes with
    the book, in one query."""
    access = get_school(request, code)
    if subject_pk is None:
        book = Book(get_homeroom_book(access, class_pk, write=True))
        return book, None if student_pk is None else find_enrollment(book, student_pk)
    found = get_subject_cell(access, class_pk, subject_pk, student_pk)
    return with_study_plan(Book(found.class_group, found.entry)), found.enrollment


def checked_term(term: int) -> int:
    if term not in (1, 2):
        raise Http404
    return term


def get_enrollment(book: Book, student_pk: int) -> Enrollment:
    """The student's place in the book's class (404 if the student is not in it)."""
    enrollment = find_enrollment(book, student_pk)
    if enrollment is None:
        raise Http404
    return enrollment


def find_enrollment(book: Book, student_pk: int) -> Enrollment | None:
    """The student's place in the book's class, with the student, or None (a hand-written
    statement, gradebook/hot.py: a homeroom cell save asks)."""
    return hot.class_enrollment(class_group_id=book.class_group.pk, student_id=student_pk)


def current_term(class_group: ClassGroup) -> int:
    """Term II once it has started, else term I."""
    starts = class_group.year.terms.filter(number=2).values_list("starts_on", flat=True).first()
    return 2 if starts is not None and timezone.localdate() >= starts else 1


def book_kwargs(access: SchoolAccess, book: Book, **more) -> dict:
    kwargs = {"code": access.school.code, "class_pk": book.class_group.pk, **more}
    if book.entry is not None:
        kwargs["subject_pk"] = book.subject_id
    return kwargs


def grid_url(access: SchoolAccess, book: Book, term: int) -> str:
    name = "gradebook:homeroom" if book.entry is None else "gradebook:grid"
    return reverse(name, kwargs=book_kwargs(access, book, term=term))


# --- Pages -------------------------------------------------------------------------------------


def grid(
    request: AuthenticatedRequest, code: str, class_pk: int, subject_pk: int, term: int
) -> HttpResponse:
    """One term of a subject gradebook."""
    return grid_page(request, code, class_pk, subject_pk, checked_term(term))


def homeroom(request: AuthenticatedRequest, code: str, class_pk: int, term: int) -> HttpResponse:
    """One term of a class's homeroom book (conduct, absences, comment; primary: qualities)."""
    return grid_page(request, code, class_pk, None, checked_term(term))


def grid_current(
    request: AuthenticatedRequest, code: str, class_pk: int, subject_pk: int
) -> HttpResponse:
    """The dashboard's way in: the term that is running now."""
    access, book = get_book(request, code, class_pk, subject_pk)
    return redirect(grid_url(access, book, current_term(book.class_group)))


def homeroom_current(request: AuthenticatedRequest, code: str, class_pk: int) -> HttpResponse:
    access, book = get_book(request, code, class_pk, None)
    return redirect(grid_url(access, book, current_term(book.class_group)))


def grid_page(
    request: AuthenticatedRequest, code: str, class_pk: int, subject_pk: int | None, term: int
) -> HttpResponse:
    access = get_school(request, code)
    book, writer = open_book(access, class_pk, subject_pk)
    sheet = build_grid(book=book, term=term, writer=writer, language=get_language())
    school_settings = settings_for(access.school.pk)
    context = {
        "access": access,
        "class_group": book.class_group,
        "entry": book.entry,
        "term": term,
        "book": book,
        "grid": sheet,
        "panel": lock_panel(access, book.class_group, book.entry, term, grid=sheet)
        if book.entry
        else None,
        "lock_message": lock_message(sheet.lock) if sheet.lock else "",
        "save_url": reverse("gradebook:cell_save", kwargs=book_kwargs(access, book)),
        "changes_url": reverse(
            "gradebook:grid_changes", kwargs=book_kwargs(access, book, term=term)
        ),
        "term_urls": [(t, grid_url(access, book, t)) for t in (1, 2)],
        "comment_max": school_settings.comment_max_length,
        "phrases": comment_phrases(book) if writer else [],
        "strings": grid_strings(),
        "level_sources": " ".join(book.level_sources(term)),
        "teachers": book.teacher_names(),  # the printed header's
        **excel_urls(access, book, term, writer=writer and not sheet.lock),
    }
    return render(request, "gradebook/grid.html", context)


def excel_urls(access, book, term: int, *, writer: bool) -> dict[str, str]:
    """The Excel round-trip of a subject book's term, for the grid's tools: the download for
    anyone who reads the book, the import for those who may write it while it is open."""
    if book.entry is None:
        return {}
    kwargs = {"code": access.school.code, "class_pk": book.class_group.pk,
              "subject_pk": book.entry.subject_id, "term": term}  # fmt: skip
    urls = {"excel_export_url": reverse("gradebook:excel_export", kwargs=kwargs)}
    if writer:
        urls["excel_import_url"] = reverse("gradebook:excel_import", kwargs=kwargs)
    return urls


def grid_year(
    request: AuthenticatedRequest, code: str, class_pk: int, subject_pk: int
) -> HttpResponse:
    """HK I, HK II and the year result of a subject, side by side, read-only."""
    access, book = get_book(request, code, class_pk, subject_pk)
    context = {
        "access": access,
        "class_group": book.class_group,
        "entry": book.entry,
        "book": book,
        "headers": year_headers(book),
        "rows": build_year(book=book, language=get_language()),
        "term_urls": [(t, grid_url(access, book, t)) for t in (1, 2)],
        "explains": book.kind in ("score", "comment"),
    }
    return render(request, "gradebook/grid_year.html", context)


def grid_strings() -> dict[str, str]:
    """The grid script's user-facing texts, translated (rendered with json_script)."""
    return {
        "saving": _("Saving…"),
        "saved": _("Saved"),
        "queued": _("Waiting to be sent"),
        "offline": _("Offline: kept in this browser, sent when the connection returns"),
        "invalid": _("Not saved"),
        "conflict": _("Someone else changed this cell: choose which value to keep"),
        "locked": _("Locked: ask for a correction"),
        "updated": _("Updated by someone else"),
        "readOnly": _("Read only"),
        "keepMine": _("Keep mine"),
        "takeTheirs": _("Take theirs"),
        "theirs": _("Saved by someone else"),
        "mine": _("Yours"),
        "empty": _("(empty)"),
        "pending": _("Changes waiting to be sent: %(count)s"),
        "allSaved": _("All changes saved."),
        "offlineBanner": _(
            "No connection. Your changes are kept in this browser and will be sent in order "
            "when the connection returns."
        ),
        "retrying": _("Could not reach the server; trying again in %(seconds)s s."),
        "sessionExpired": _(
            "Your session has ended. Log in again (in another tab); your changes are kept and "
            "will be sent."
        ),
        "denied": _("You may not change this gradebook."),
        "serverError": _("The server could not save this cell; type it again later."),
        "lockedNow": _(
            "This gradebook has been locked meanwhile; changes can no longer be saved here."
        ),
        "notSaved": _("Cells not saved (marked in red): %(count)s."),
        "conflicts": _("Conflicts to resolve: %(count)s."),
        "pasted": _("Pasted cells: %(count)s."),
        "leftOutColumns": _(
            "Not pasted, no mark column left in the row (computed columns are stepped over, "
            "comments never filled): %(values)s."
        ),
        "leftOutComments": _("Not pasted, no comment column left in the row: %(values)s."),
        "leftOutPastEnd": _("Not pasted, past the last student: %(values)s."),
        "leftOutReadOnly": _("Not pasted, read-only cells: %(values)s."),
        "filled": _("Cells filled down: %(count)s."),
        "fillLeftOutColumns": _(
            "Not filled, no mark column left in the row (computed columns are stepped over, "
            "comments never filled): %(values)s."
        ),
        "fillLeftOutComments": _("Not filled, no comment column left in the row: %(values)s."),
        "fillLeftOutReadOnly": _("Not filled, read-only cells: %(values)s."),
        "undone": _("Cells undone: %(count)s."),
        "redone": _("Cells redone: %(count)s."),
        "notReplayed": _("Left as they are (read-only, or a conflict to resolve): %(count)s."),
        "nothingToUndo": _("Nothing to undo."),
        "nothingToRedo": _("Nothing to redo."),
        "typedNotSaved": _("Not saved: you typed “%(value)s”."),
        "typedNotSavedList": _("Not saved (marked in red): %(cells)s."),
        "lockedBadge": _("Locked"),
        "submittedBadge": _("Submitted"),
        "correctionOnly": _(
            "Locked cells change only through a correction request approved by the principal."
        ),
        "characters": _("%(count)s / %(max)s characters"),
        "tooLong": _("Too long: shorten the comment to save it."),
        "unsent": _("Some changes have not been sent yet. Leave anyway?"),
        "computedHint": _("Computed: press Enter to show the calculation"),
    }


# --- Saving one cell ---------------------------------------------------------------------------


def read_payload(request: HttpRequest) -> dict:
    if request.content_type == "application/json":
        payload = json.loads(request.body or b"{}")
        if not isinstance(payload, dict):
            raise ValueError("not an object")
        return payload
    return request.POST.dict()


def read_cell_request(request: HttpRequest) -> tuple[int, str, str, int] | str:
    """(student, column, value, version) of a cell save, or why they cannot be read. The
    student and the version are whole numbers within their columns' range (config/numbers.py):
    an id past the database's would fail only when a statement binds it."""
    try:
        payload = read_payload(request)
        student, key, version = payload["student"], str(payload["column"]), payload["version"]
    except (KeyError, TypeError, ValueError):
        return _("Incomplete request: student, column, value and version are required.")
    text = "" if payload.get("value") is None else str(payload["value"])
    student_pk = whole_number(student)
    version_number = whole_number(version, maximum=POSITIVE_INTEGER_MAX)
    if student_pk is None or version_number is None:
        return _("Invalid request: the student and the version must be whole numbers in range.")
    return student_pk, key, text, version_number


@require_POST
def cell_save(
    request: AuthenticatedRequest, code: str, class_pk: int, subject_pk: int | None = None
) -> JsonResponse:
    """Save one cell from the grid. JSON or form body: student, column, value, version (the
    version the user saw). Answers 200 with the saved cell and its row's results, 409 with the
    current value on a conflict, 422 for a refused value, 423 when locked."""
    asked = read_cell_request(request)
    student_pk = None if isinstance(asked, str) else asked[0]
    book, enrollment = get_cell_book(request, code, class_pk, subject_pk, student_pk)
    if isinstance(asked, str):  # said only now: a refusal of access comes first
        return JsonResponse({"error": asked}, status=400)
    student_pk, key, text, version = asked
    column = book.column(key)
    if column is None:
        return JsonResponse({"error": _("This gradebook has no such column.")}, status=400)
    if enrollment is None:
        raise Http404
    cell = {"student": student_pk, "column": key}
    if enrollment.left_on is not None:
        message = _("This student has left the class; their marks are read-only.")
        return JsonResponse({**cell, "error": message}, status=422)
    try:
        result = save_mark(
            actor=request.user,
            class_group=book.class_group,
            student=enrollment.student,
            column=column,
            text=text,
            base_version=version,
            source=EventSource.GRID,
            client_ip=request.META.get("REMOTE_ADDR"),
            enrolled=True,
        )
    except Conflict as conflict:
        mark = conflict.mark
        return JsonResponse(
            {
                **cell,
                "conflict": True,
                "value": mark.value,
                "display": display_value(mark.value, column.value_type, get_language()),
                "version": mark.version,
                "message": conflict.message,
            },
            status=409,
        )
    except Locked as locked:
        return JsonResponse({**cell, "locked": True, "message": locked.message}, status=423)
    except GradebookError as error:
        return JsonResponse({**cell, "error": error.message}, status=422)
    mark = result.mark
    return JsonResponse(
        {
            **cell,
            "value": mark.value,
            "display": display_value(mark.value, column.value_type, get_language()),
            "version": mark.version,
            "changed": result.changed,
            "row": row_results(
                book.for_student(enrollment.student_id), column.term, result.row, get_language()
            ),
            "warning": result.warning,  # grid.js: shown in the status line (announce)
        }
    )


def since_datetime(text: str) -> datetime.datetime | None:
    """An ISO date-time with a time zone that the database can compare (its year from 1 to
    9999 in UTC too), or None."""
    try:
        found = parse_datetime(text)  # ValueError: the shape of a date-time, no such date
        if found is None or timezone.is_naive(found):
            return None
        found.astimezone(datetime.UTC)  # OverflowError: before year 1 or after 9999 in UTC
    except (ValueError, OverflowError):
        return None
    return found


@require_GET
def grid_changes(
    request: AuthenticatedRequest,
    code: str,
    class_pk: int,
    term: int,
    subject_pk: int | None = None,
) -> JsonResponse:
    """Cells of this term changed by anyone since `?since=` (a ledger event number, as given
    back in `cursor`, or an ISO timestamp). Without `since`: just the cursor."""
    book = get_book(request, code, class_pk, subject_pk)[1]
    term = checked_term(term)
    since_text = request.GET.get("since", "").strip().replace(" ", "+")
    since = since_time = None
    if since_text:
        since = whole_number(since_text, maximum=ID_MAX)
        since_time = None if since is not None else since_datetime(since_text)
        if since is None and since_time is None:
            message = _("“since” must be an event number or an ISO date-time with a time zone.")
            return JsonResponse({"error": message}, status=400)
    changes = changes_since(
        book=book, term=term, since=since, since_time=since_time, language=get_language()
    )
    return JsonResponse(
        {
            "cursor": changes.cursor,
            "cells": changes.cells,
            "rows": changes.rows,
            "locked": changes.locked,
            "lock_kind": changes.lock_kind,
            "lock_message": changes.lock_message,
        }
    )
