"""The class's Summer page (gradebook.summer): the students due summer re-assessment with the
cells of the subjects the rules list, and those due summer conduct training with their conduct
cell. Everyone who opens the class sees it (a subject teacher, only their subjects' rows); each
cell is typed by whom the school's setting names. One form, one transaction: a refused cell
writes nothing (docs/gradebook.md#summer)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from accounts.http import AuthenticatedRequest
from gradebook.services import GradebookError
from gradebook.summary import Cell, conduct_cell, level_cell, promotion_cell
from gradebook.summer import (
    CONDUCT,
    SummerCell,
    SummerRow,
    SummerSheet,
    save_summer_mark,
    summer_sheet,
)
from schools.access import SchoolAccess, get_class_group, get_school
from schools.models import ClassGroup, TeachingAssignment


@dataclass(frozen=True)
class Entry:
    """A cell as the page shows it: the value typed (after a refused form) and its error."""

    cell: SummerCell
    shown: str
    error: str = ""


@dataclass(frozen=True)
class Line:
    row: SummerRow
    entries: list[Entry]
    learning: Cell  # year learning → after re-assessment, with the calculation
    conduct: Cell  # year conduct → after training
    decision: Cell  # the decision as the class summary writes it, the rules' explanation


class _Refused(Exception):
    """Rolls the form's transaction back when any cell was refused."""


def _sheet(access: SchoolAccess, class_group: ClassGroup) -> SummerSheet:
    whole = access.reads_whole_class(class_group)
    taught: set[int] = set()
    if not whole:
        taught = set(
            TeachingAssignment.objects.filter(
                teacher=access.user, class_group=class_group
            ).values_list("subject_id", flat=True)
        )
    return summer_sheet(class_group, user=access.user, whole_class=whole, subject_ids=taught)


def _target(name: str) -> tuple[int, int | None] | None:
    """ "c-<student>-<subject pk | conduct>" → (student pk, subject pk or None)."""
    parts = name.split("-")
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    if parts[2] == CONDUCT:
        return int(parts[1]), None
    return (int(parts[1]), int(parts[2])) if parts[2].isdigit() else None


def _version(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def _save_posted(request: AuthenticatedRequest, sheet: SummerSheet) -> tuple[int, dict[str, str]]:
    """Save every changed cell of the form in one transaction; (cells saved, errors by field)
    with nothing written when any cell is refused."""
    cells = sheet.cells()
    students = {s.student.pk: s.student for s in sheet.results.students}
    errors: dict[str, str] = {}
    saved = 0
    try:
        with transaction.atomic():
            for name in request.POST:
                if not name.startswith("c-"):
                    continue
                text = request.POST.get(name, "")
                known = cells.get(name)
                if known is not None and known.value == text.strip():
                    continue
                target = _target(name)
                if target is None or target[0] not in students:
                    errors[name] = _("This student is not in class %(name)s.") % {
                        "name": sheet.class_group.name
                    }
                    continue
                try:
                    result = save_summer_mark(
                        actor=request.user, class_group=sheet.class_group,
                        student=students[target[0]], subject_id=target[1], text=text,
                        base_version=_version(request.POST.get("v-" + name[2:], "")),
                        client_ip=request.META.get("REMOTE_ADDR"),
                    )  # fmt: skip
                except GradebookError as error:
                    errors[name] = error.message
                except PermissionDenied as error:
                    errors[name] = str(error) or _("You may not enter this result.")
                else:
                    saved += result.changed
            if errors:
                raise _Refused
    except _Refused:
        return 0, errors
    return saved, errors


def _lines(
    rows: list[SummerRow], grade: int, posted: dict[str, str], errors: dict[str, str]
) -> list[Line]:
    return [
        Line(
            row,
            [Entry(c, posted.get(c.name, c.value), errors.get(c.name, "")) for c in row.cells],
            level_cell(row.result.learning_year, row.result.learning_reassessed),
            conduct_cell(row.result, "year"),
            promotion_cell(row.result, grade),
        )
        for row in rows
    ]


@require_http_methods(["GET", "HEAD", "POST"])
def summer(request: AuthenticatedRequest, code: str, class_pk: int) -> HttpResponse:
    """The class's summer entries (GET) and their save (POST)."""
    access = get_school(request, code)
    class_group = get_class_group(access, class_pk)
    sheet = _sheet(access, class_group)
    posted: dict[str, str] = {}
    errors: dict[str, str] = {}
    if request.method == "POST":
        if not sheet.writer:
            raise PermissionDenied
        saved, errors = _save_posted(request, sheet)
        if not errors:
            messages.success(
                request,
                ngettext("%(count)d result saved.", "%(count)d results saved.", saved)
                % {"count": saved},
            )
            return redirect("gradebook:summer", code=code, class_pk=class_group.pk)
        posted = {k: request.POST.get(k, "") for k in request.POST if k.startswith("c-")}
        unknown = [m for k, m in errors.items() if k not in sheet.cells()]
        for message in dict.fromkeys(unknown):
            messages.error(request, message)
    context = {
        "access": access,
        "class_group": class_group,
        "sheet": sheet,
        "reassessment": _lines(sheet.reassessment, class_group.grade, posted, errors),
        "training": _lines(sheet.training, class_group.grade, posted, errors),
        "errors": errors,
        "whole_class": access.reads_whole_class(class_group),
    }
    return render(request, "gradebook/summer.html", context, status=400 if errors else 200)
