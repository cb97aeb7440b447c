"""Words of the gradebook's messages: the rules package's InvalidMark as a translated message
for the user, a moment as the messages write it, and the names of terms, lock scopes and cells
(the lock pages' and the notifications' alike)."""

from __future__ import annotations

import datetime

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext

from gradebook.columns import COMPETENCIES, QUALITIES
from gradebook.models import Kind
from gradebook.rules import InvalidMark
from gradebook.rules.secondary import mark_label


def invalid_mark_message(error: InvalidMark) -> str:
    """The translated message of an InvalidMark, in the active language."""
    return gettext(error.message) % dict(error.params)


def short_datetime(moment: datetime.datetime) -> str:
    """The moment in local time, in the active language's short date-time format."""
    return date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


def term_name(term: int | None) -> str:
    """ "Term I", "Term II", "year-end" (term 0) or "the whole year" (None)."""
    names = {
        None: gettext("the whole year"),
        0: gettext("year-end"),
        1: gettext("Term I"),
        2: gettext("Term II"),
    }
    return str(names[term])


def scope_words(class_name: str | None, subject_name: str | None, term: int | None) -> str:
    """What a lock covers: "6A1 · Toán · Term I", "all classes · … · Term II"."""
    classes = class_name or gettext("all classes")
    subjects = subject_name or gettext("all subjects and homeroom books")
    return " · ".join((classes, subjects, term_name(term)))


def cell_words(kind: str, slot: str) -> str:
    """A cell's short name: "TX2", "GK", "CK", "Conduct", "Honesty"…"""
    short = mark_label(kind, slot)
    if short is not None:
        return short
    label = str(Kind(kind).label)
    slot_name = {Kind.QUALITY: dict(QUALITIES), Kind.COMPETENCY: dict(COMPETENCIES)}.get(
        Kind(kind), {}
    ).get(slot)
    if slot_name:
        return f"{label}: {slot_name}"
    return f"{label} {slot}".strip()
