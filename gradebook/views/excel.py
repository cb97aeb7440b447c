"""Excel round-trip of a class × subject × term gradebook: export (anyone who may read the book),
upload and preview, then confirm (only a teacher assigned to the class × subject).

The preview between upload and confirm is kept in the user's session (server-side, in the
database) under a random token: the differences as parsed, each with the cell version it was
compared with. Confirming applies exactly what was shown; the versions make a cell changed by
someone else in between a conflict that refuses the whole import. The uploaded file itself is
not kept anywhere.
"""

from __future__ import annotations

import secrets
import time

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.http import AuthenticatedRequest
from gradebook.excel import (
    ImportRefused,
    Preview,
    TermBook,
    apply_import,
    changes_from_data,
    changes_to_data,
    export_filename,
    export_workbook,
    preview_import,
)
from gradebook.forms_settings import GradebookUploadForm
from gradebook.grid.display import display_value
from schools.access import SchoolAccess, get_school, get_subject_gradebook
from schools.roster_import.errors import ImportFileError

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SESSION_KEY = "gradebook_excel_previews"
MAX_PENDING = 3  # previews kept per session; older ones expire
PREVIEW_TTL = 2 * 60 * 60  # seconds a preview may wait for its confirmation


def _book(
    request: AuthenticatedRequest,
    code: str,
    class_pk: int,
    subject_pk: int,
    term: int,
    *,
    write: bool,
) -> tuple[SchoolAccess, TermBook]:
    access = get_school(request, code)
    book = get_subject_gradebook(access, class_pk, subject_pk, write=write)
    if term not in (1, 2):
        raise Http404
    return access, TermBook(book.class_group, book.entry, term)


def _book_kwargs(access: SchoolAccess, book: TermBook) -> dict:
    return {
        "code": access.school.code,
        "class_pk": book.class_group.pk,
        "subject_pk": book.entry.subject_id,
        "term": book.term,
    }


@require_safe
def excel_export(
    request: AuthenticatedRequest, code: str, class_pk: int, subject_pk: int, term: int
) -> HttpResponse:
    _access, book = _book(request, code, class_pk, subject_pk, term, write=False)
    response = HttpResponse(export_workbook(book), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{export_filename(book)}"'
    return response


@require_http_methods(["GET", "HEAD", "POST"])
def excel_import(
    request: AuthenticatedRequest, code: str, class_pk: int, subject_pk: int, term: int
) -> HttpResponse:
    access, book = _book(request, code, class_pk, subject_pk, term, write=True)
    preview, token = None, ""
    if request.method == "POST":
        form = GradebookUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                preview = preview_import(book, data=upload.read(), filename=upload.name)
            except ImportFileError as error:
                form.add_error("file", str(error))
            if preview is not None and preview.can_apply:
                token = _keep(request, book, preview, upload.name)
    else:
        form = GradebookUploadForm()
    context = {
        "access": access,
        "book": book,
        "form": form,
        "preview": preview,
        "shown": _shown(preview),
        "token": token,
        "urls": _book_kwargs(access, book),
    }
    return render(request, "gradebook/excel_import.html", context)


def _shown(preview: Preview | None) -> list[dict]:
    """The preview's changes with their values as the user reads them ("7,5", "Đ")."""
    if preview is None:
        return []
    language = get_language() or "vi"
    return [
        {
            "change": change,
            "old": display_value(change.old, change.value_type, language),
            "new": display_value(change.new, change.value_type, language),
        }
        for change in preview.changes
    ]


@require_POST
def excel_import_confirm(
    request: AuthenticatedRequest, code: str, class_pk: int, subject_pk: int, term: int
) -> HttpResponse:
    access, book = _book(request, code, class_pk, subject_pk, term, write=True)
    kwargs = _book_kwargs(access, book)
    pending = _take(request, book, request.POST.get("token", ""))
    if pending is None:
        messages.error(request, _("This preview has expired or was already used. Upload again."))
        return redirect("gradebook:excel_import", **kwargs)
    reason = _("Excel import of %(file)s") % {"file": pending["filename"]}
    try:
        written = apply_import(
            book,
            changes=changes_from_data(pending["changes"]),
            actor=request.user,
            client_ip=request.META.get("REMOTE_ADDR"),
            reason=reason,
        )
    except ImportRefused as refused:
        messages.error(request, refused.message)
        return redirect("gradebook:excel_import", **kwargs)
    messages.success(
        request,
        ngettext("%(count)s mark imported.", "%(count)s marks imported.", written)
        % {"count": written},
    )
    return redirect(_grid_url(kwargs))


def _grid_url(kwargs: dict) -> str:
    """The book's grid, or the import page while the grid is not installed."""
    try:
        return reverse("gradebook:grid", kwargs=kwargs)
    except NoReverseMatch:
        return reverse("gradebook:excel_import", kwargs=kwargs)


# --- The preview, kept in the session between upload and confirm ------------------------------


def _keep(request: AuthenticatedRequest, book: TermBook, preview: Preview, filename: str) -> str:
    token = secrets.token_urlsafe(16)
    pending = {
        key: value
        for key, value in request.session.get(SESSION_KEY, {}).items()
        if value["created"] > time.time() - PREVIEW_TTL
    }
    for old in sorted(pending, key=lambda k: pending[k]["created"])[: -MAX_PENDING + 1]:
        del pending[old]
    pending[token] = {
        "book": book.identity,
        "filename": filename[:200],
        "created": time.time(),
        "changes": changes_to_data(preview.changes),
    }
    request.session[SESSION_KEY] = pending
    return token


def _take(request: AuthenticatedRequest, book: TermBook, token: str) -> dict | None:
    """The preview kept under `token` for this book, removed from the session (used once)."""
    pending = request.session.get(SESSION_KEY, {})
    found = pending.pop(token, None)
    request.session[SESSION_KEY] = pending
    if found is None or found["book"] != book.identity:
        return None
    if found["created"] <= time.time() - PREVIEW_TTL:
        return None
    return found
