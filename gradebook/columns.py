"""Which cells a gradebook grid has, and how a typed value becomes a cell's canonical text.

The columns of a subject grid follow the curriculum entry (Circular 22: the marks a term result
needs, as `gradebook.rules.subject_term` lists them, then a comment; Circular 27: a level and,
where the subject has them, a test at mid-term and end of term, and a comment). The homeroom
grid holds conduct, absences and the homeroom comment (secondary) or qualities and competencies
(primary).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from config.text import FORBIDDEN_CHARACTER_MESSAGE, forbidden_character
from gradebook.curriculum import regular_marks_per_term
from gradebook.models import Kind
from gradebook.rules import InvalidMark, gettext_noop
from gradebook.rules.primary import parse_quality_level, parse_subject_level, parse_test_score
from gradebook.rules.secondary import (
    TermAssessment,
    parse_comment_result,
    parse_level,
    parse_score,
    required_marks,
)
from schools.models import Assessment, CurriculumEntry

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

MAX_ABSENCE_SESSIONS = 400
#: Above this many sessions absent in one term (excused and unexcused together) a save warns:
#: it is the whole year's limit for promotion (docs/regulations.md#promotion), so a term past it
#: is either a student in trouble or a typing slip.
ABSENCE_WARNING_SESSIONS = 45

# The titles of a secondary subject's assessment columns (their labels come with the rule).
ASSESSMENT_TITLES = {
    TermAssessment.REGULAR: _("Regular assessment"),
    TermAssessment.MIDTERM: _("Mid-term assessment"),
    TermAssessment.FINAL: _("End-of-term assessment"),
}

# The qualities and competencies of Circular 27 (docs/regulations.md#what-is-assessed).
QUALITIES = (
    ("yeu_nuoc", _("Patriotism")),
    ("nhan_ai", _("Kindness")),
    ("cham_chi", _("Diligence")),
    ("trung_thuc", _("Honesty")),
    ("trach_nhiem", _("Responsibility")),
)
COMPETENCIES = (
    ("tu_chu", _("Autonomy and self-study")),
    ("giao_tiep", _("Communication and collaboration")),
    ("gqvd", _("Problem solving and creativity")),
    ("ngon_ngu", _("Language")),
    ("tinh_toan", _("Mathematics")),
    ("khoa_hoc", _("Science")),
    ("cong_nghe", _("Technology")),
    ("tin_hoc", _("Informatics")),
    ("tham_mi", _("Aesthetics")),
    ("the_chat", _("Physical")),
)


def _score(text: str) -> str:
    return format_score(parse_score(text))


def format_score(value: Decimal) -> str:
    """Canonical text of a score: "7", "7.5", "10" (one decimal place only when needed)."""
    return f"{value:.1f}".removesuffix(".0")


def _count(text: str) -> str:
    stripped = text.strip()
    if not (stripped.isascii() and stripped.isdigit()) or int(stripped) > MAX_ABSENCE_SESSIONS:
        raise InvalidMark(
            gettext_noop("“%(value)s” is not a number of sessions from 0 to %(max)s."),
            code="not_a_count",
            params={"value": text, "max": str(MAX_ABSENCE_SESSIONS)},
        )
    return str(int(stripped))


def term_school_days(starts_on: datetime.date, ends_on: datetime.date) -> int:
    """Days from Monday to Saturday from the term's first to its last day: the most sessions a
    student can miss in it, absences being counted on the one-session-a-day plan."""
    days = (ends_on - starts_on).days + 1
    weeks, rest = divmod(max(days, 0), 7)
    sundays = weeks + sum(
        1 for n in range(rest) if (starts_on + datetime.timedelta(days=n)).weekday() == 6
    )
    return max(days, 0) - sundays


def check_absence_count(count: int, *, school_days: int, dates: tuple[str, str]) -> None:
    """Refuse a term's absence count above its school days (InvalidMark): not a possible
    number, a typing slip. ``dates`` are the term's first and last day, as the user reads them."""
    if count > school_days:
        raise InvalidMark(
            gettext_noop(
                "%(value)s sessions is more than this term has school days: %(max)s, Monday to "
                "Saturday from %(start)s to %(end)s."
            ),
            code="more_than_the_term",
            params={
                "value": str(count),
                "max": str(school_days),
                "start": dates[0],
                "end": dates[1],
            },
        )


def absence_warning(total: int) -> str:
    """A warning (translated) when a term's absences, excused and unexcused together, pass
    ABSENCE_WARNING_SESSIONS; "" otherwise. The save goes through: it may be true."""
    if total <= ABSENCE_WARNING_SESSIONS:
        return ""
    return str(
        _(
            "Saved. %(total)s sessions absent this term (excused and unexcused): more than the "
            "%(max)s a whole year allows for promotion. Check the number."
        )
        % {"total": total, "max": ABSENCE_WARNING_SESSIONS}
    )


def _flag(text: str) -> str:
    stripped = text.strip().lower()
    if stripped in {"1", "x", "yes", "có", "co"}:
        return "1"
    raise InvalidMark(
        gettext_noop("Type 1 or x to mark it, or leave it empty."), code="not_a_flag", params={}
    )


# value type → parser returning canonical text (all raise InvalidMark)
PARSERS = {
    "score": _score,
    "pass": lambda t: str(parse_comment_result(t)),
    "level": lambda t: str(parse_level(t)),
    "primary_level": lambda t: str(parse_subject_level(t)),
    "test": lambda t: str(parse_test_score(t)),
    "quality": lambda t: str(parse_quality_level(t)),
    "count": _count,
    "flag": _flag,
}


@dataclass(frozen=True)
class Column:
    """One column of a grid: which cell it edits and what may be typed in it."""

    kind: str
    slot: str
    label: StrOrPromise
    value_type: str  # a PARSERS key, or "text"
    term: int
    subject_id: int | None = None
    title: StrOrPromise = ""

    @property
    def key(self) -> str:
        """The column's id in the page and in saves: "<term>:<kind>:<slot>"."""
        return f"{self.term}:{self.kind}:{self.slot}"

    @property
    def numeric(self) -> bool:
        return self.value_type in {"score", "test", "count"}


def canonical_value(text: str, *, value_type: str, max_length: int = 300) -> str:
    """Typed text → the canonical cell value ("" clears the cell). Raises InvalidMark."""
    if text is None or not text.strip():
        return ""
    if character := forbidden_character(text):
        raise InvalidMark(
            FORBIDDEN_CHARACTER_MESSAGE,
            code="forbidden_character",
            params={"character": character},
        )
    if value_type == "text":
        cleaned = " ".join(text.split())
        if len(cleaned) > max_length:
            raise InvalidMark(
                gettext_noop("The comment has %(length)s characters; the limit is %(max)s."),
                code="too_long",
                params={"length": str(len(cleaned)), "max": str(max_length)},
            )
        return cleaned
    return PARSERS[value_type](text)


def subject_columns(
    entry: CurriculumEntry, term: int, *, with_topics: bool = False
) -> list[Column]:
    """The cells of one subject in one term, in the order the grid shows them (``with_topics``:
    with the regular marks of the learning-topic clusters, grades 10-12)."""
    subject_id = entry.subject_id
    if entry.assessment == Assessment.PRIMARY:
        columns = [
            Column(Kind.LEVEL, "mid", _("Mid-term level"), "primary_level", term, subject_id),
            Column(Kind.LEVEL, "end", _("End-of-term level"), "primary_level", term, subject_id),
        ]
        if entry.midterm_test:
            columns.insert(
                1, Column(Kind.TEST, "mid", _("Mid-term test"), "test", term, subject_id)
            )
        if entry.periodic_test:
            columns.append(
                Column(Kind.TEST, "end", _("End-of-term test"), "test", term, subject_id)
            )
        columns.append(Column(Kind.COMMENT, "", _("Comment"), "text", term, subject_id))
        return columns
    value_type = "score" if entry.assessment == Assessment.SCORE else "pass"
    columns = [
        Column(
            Kind(mark.kind),
            mark.slot,
            mark.label,
            value_type,
            term,
            subject_id,
            ASSESSMENT_TITLES[mark.kind],
        )
        for mark in required_marks(regular_marks_per_term(entry, with_topics=with_topics))
    ]
    columns.append(Column(Kind.COMMENT, "", _("Comment"), "text", term, subject_id))
    return columns


def homeroom_columns(*, primary: bool, term: int) -> list[Column]:
    """The homeroom teacher's cells for one term."""
    if primary:
        columns = [
            Column(Kind.QUALITY, code, str(name), "quality", term) for code, name in QUALITIES
        ]
        columns += [
            Column(Kind.COMPETENCY, code, str(name), "quality", term) for code, name in COMPETENCIES
        ]
        if term == 2:  # the class's recognition for the year's award (Học sinh Tiêu biểu)
            columns.append(
                Column(
                    Kind.RECOGNISED,
                    "",
                    _("Recognised"),
                    "flag",
                    term,
                    title=_("Recognised by the class (Exemplary student award): 1 or x"),
                )
            )
        columns.append(Column(Kind.HOMEROOM_COMMENT, "", _("Homeroom comment"), "text", term))
        return columns
    return [
        Column(Kind.CONDUCT, "", _("Conduct"), "level", term),
        Column(Kind.ABSENT_EXCUSED, "", _("Absent, excused"), "count", term),
        Column(Kind.ABSENT_UNEXCUSED, "", _("Absent, unexcused"), "count", term),
        Column(Kind.HOMEROOM_COMMENT, "", _("Homeroom comment"), "text", term),
    ]


def parse_column_key(key: str) -> tuple[int, str, str]:
    """ "<term>:<kind>:<slot>" → (term, kind, slot); ValueError if malformed."""
    term_text, kind, slot = key.split(":", 2)
    term = int(term_text)
    if term not in (0, 1, 2) or kind not in Kind.values:
        raise ValueError(key)
    return term, kind, slot
