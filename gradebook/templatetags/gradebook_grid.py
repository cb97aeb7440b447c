"""The grid's body rows, written in Python.

A term of a 45-student book has some 500 cells; rendering them through the template language
cost most of the page (bench/grid_load.py, issue 7). This tag writes the same markup in Python
(every value escaped, as the template language does); a student's URLs are reversed once per
page.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape as _escape

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from gradebook.grid.page import Cell, Grid, Row
from gradebook.grid.results import Computed

register = template.Library()


def e(value: object) -> str:
    """Escape for HTML text and attributes, as the template language does."""
    return _escape(str(value), quote=True)


@register.simple_tag(takes_context=True)
def grid_rows(context: template.Context, grid: Grid) -> SafeString:
    code = context["access"].school.code
    class_group = context["class_group"]
    entry = context.get("entry")
    term = context["term"]
    correction_url = reverse("gradebook:correction_new", args=[code])
    book_args = [code, class_group.pk, entry.subject_id] if entry else [code, class_group.pk]
    urls = {  # a student's links: reversed once for the page, the student's id put in per row
        "row_edit": student_url("gradebook:row_edit", [*book_args, term]),
        "explain": student_url("gradebook:explain", book_args) if entry else None,
    }
    texts = {  # escaped once here: the cells put them in attributes and text as they are
        "left_title": _("Left the class: read only"),
        "row_title": _("Edit the whole row in a form"),
        "left": _("left"),
        "partial": _("partly exempt"),
        "explain": _("Show the calculation"),
        "locked": _("Locked"),
        "correction": _("Request a correction"),
        "exempt": _("Exempt from this subject this term: no mark is entered"),
    }
    texts = {key: e(text) for key, text in texts.items()}
    if not grid.rows:
        return format_html(
            '<tr><td colspan="{}" class="text-body-secondary">{}</td></tr>',
            len(grid.layout) + 2,
            _("No students in this class yet."),
        )
    parts = []
    for index, row in enumerate(grid.rows):
        parts.append(_row(row, index, grid, class_group, entry, urls, correction_url, texts))
    return mark_safe("\n".join(parts))  # noqa: S308 - every part comes from format_html


_STUDENT = 987654321987  # stands for the student's id in a URL reversed once for a page


def student_url(name: str, args: list) -> Callable[[int], str]:
    """A function of a student's id giving the URL `name` with `args` and that id, reversed
    once rather than for every row (the URL's other parts cannot contain the stand-in)."""
    pattern = reverse(name, args=[*args, _STUDENT])
    return lambda student_id: pattern.replace(str(_STUDENT), str(int(student_id)))


def _row(row: Row, index, grid, class_group, entry, urls, correction_url, texts) -> str:
    student = row.student
    left_attrs = f' class="gb-left" title="{texts["left_title"]}"' if row.left else ""
    if grid.writer and not row.left:
        name = format_html(
            '<a href="{}" class="gb-row-link" title="{}">{}</a>',
            urls["row_edit"](student.pk),
            mark_safe(texts["row_title"]),  # noqa: S308 - escaped above
            student.full_name,
        )
    else:
        name = format_html("{}", student.full_name)
    if row.left:
        name += mark_safe(f' <span class="badge text-bg-secondary">{texts["left"]}</span>')  # noqa: S308
    if row.partial:  # an approved partial exemption: the part as the title, the cells stay due
        name += format_html(
            ' <span class="badge text-bg-light border" data-partial-exemption title="{}">{}</span>',
            _("Exempt from part of the subject: %(part)s. The marks are still due.")
            % {"part": row.partial},
            texts["partial"],
        )
    explain = (
        urls["explain"](student.pk)
        if entry is not None and any(item.is_computed for item in row.items)
        else ""
    )
    cells = []
    for position, item in enumerate(row.items):
        if isinstance(item, Computed):
            cells.append(_computed(item, explain, texts))
        else:
            first = index == 0 and position == 0
            cells.append(
                _cell(item, first, grid, class_group, student, entry, correction_url, texts)
            )
    return format_html(
        '<tr role="row" aria-rowindex="{}" data-student="{}" data-given-name="{}" '
        'data-name="{}"{}>\n<td role="gridcell" class="gb-roll">{}</td>\n'
        '<th scope="row" role="rowheader" class="gb-name">{}</th>\n{}\n</tr>',
        index + 2,
        student.pk,
        row.given_name,
        student.full_name,
        mark_safe(left_attrs),  # noqa: S308 - literal text, escaped above
        row.enrollment.roll_number,
        name,
        mark_safe("\n".join(cells)),  # noqa: S308 - every cell comes from format_html
    )


def _computed(item: Computed, explain: str, texts: dict[str, str]) -> str:
    url = e(f"{explain}?term={item.term}")
    return (
        f'<td role="gridcell" tabindex="-1" class="gb-computed" data-computed="{e(item.id)}" '
        f'data-value="{e(item.value)}" aria-readonly="true"><a class="gb-explain" href="{url}" '
        f'tabindex="-1" hx-get="{url}" hx-target="#gb-explain-body" data-bs-toggle="modal" '
        f'data-bs-target="#gb-explain" title="{texts["explain"]}">{e(item.display or "—")}</a></td>'
    )


def _cell(item: Cell, first, grid, class_group, student, entry, correction_url, texts) -> str:
    column = item.column
    kind = e(column.value_type)
    extra = ""
    if item.editable:
        extra += ' data-editable="1"'
    if item.locked:
        extra += ' data-locked="1"'
    if item.exempt:  # read only (no data-editable): the JS never opens an editor on it
        extra += f' data-exempt="1" title="{texts["exempt"]}"'
    display = e(item.display)
    if column.value_type == "text" and not item.exempt:
        extra += f' title="{display}"'
    inside = f'<span class="gb-text">{display}</span>'
    if item.locked and not item.exempt:
        inside += (
            '<i class="bi bi-lock-fill gb-lock" aria-hidden="true"></i>'
            f'<span class="visually-hidden">{texts["locked"]}</span>'
        )
        if grid.writer and correction_url:
            query = {"class": class_group.pk, "student": student.pk, "column": column.key}
            if entry:
                query["subject"] = entry.subject_id
            inside += (
                f'<a class="gb-fix" tabindex="-1" href="{e(correction_url)}?{e(urlencode(query))}" '
                f'title="{texts["correction"]}"><i class="bi bi-pencil-square" aria-hidden="true">'
                f'</i><span class="visually-hidden">{texts["correction"]}</span></a>'
            )
    return (
        f'<td role="gridcell" tabindex="{"0" if first else "-1"}" class="gb-cell gb-t-{kind}" '
        f'data-key="{e(column.key)}" data-type="{kind}" data-version="{int(item.version)}" '
        f'data-value="{e(item.value)}" aria-readonly="{"false" if item.editable else "true"}"'
        f"{extra}>{inside}</td>"
    )
