"""The class summary tables: every student × every subject's result, levels, conduct, absences,
award and promotion (secondary) or levels, tests, qualities, competencies and completion
(primary) for a term or the year, each cell with its calculation as a tooltip. The page
(:mod:`gradebook.views.summary`) shows them; :mod:`gradebook.exports` writes them to .xlsx."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from gradebook.columns import COMPETENCIES, QUALITIES
from gradebook.results import (
    ClassResults,
    PrimaryStudentResults,
    SecondaryStudentResults,
    SubjectInfo,
)
from gradebook.results import labels as show
from gradebook.rules import Explanation
from gradebook.rules.secondary import LearningLevel
from schools.models import SchoolYear

Period = int | Literal["year"]  # 1, 2 or "year"


@dataclass(frozen=True)
class Cell:
    """One cell of the summary: its text, a tooltip (the calculation), a CSS class, and the raw
    value the spreadsheet gets (a number where there is one)."""

    text: str
    title: str = ""
    css: str = ""
    raw: object = None


@dataclass(frozen=True)
class Header:
    label: str
    title: str = ""
    abbreviated: bool = False  # the label abbreviates the title (<abbr>, and the printed key)


@dataclass
class SummaryTable:
    headers: list[Header]
    rows: list[list[Cell]] = field(default_factory=list)

    @property
    def abbreviations(self) -> list[Header]:
        """The headers shown abbreviated, for the key under the table (a title does not print)."""
        return [h for h in self.headers if h.abbreviated]


#: A subject name longer than this would widen its column past the others: the header shows
#: the subject's code instead, with the name as its title and in the key under the table.
MAX_HEADER_NAME = 24


def subject_header(subject: SubjectInfo) -> Header:
    """A subject's column header: its name, or its code when the name is too long."""
    if len(subject.name) <= MAX_HEADER_NAME:
        return Header(subject.name)
    return Header(subject.code, subject.name, abbreviated=True)


def explained(explanation: Explanation | None) -> str:
    return explanation.text(get_language() or "vi") if explanation else ""


def current_period(
    year: SchoolYear, *, primary: bool, today: datetime.date | None = None
) -> Period:
    """The period a summary opens on: the term in progress, or the year once term II ended."""
    today = today or timezone.localdate()
    ends = {t.number: t for t in year.terms.all()}
    if 2 in ends and today > ends[2].ends_on:
        return "year"
    if 2 in ends and today >= ends[2].starts_on:
        return "year" if primary else 2
    return 1


# --- cells ------------------------------------------------------------------------------------


def subject_css(value: object) -> str:
    if isinstance(value, Decimal):
        return "r-low" if value < 5 else ""
    return "r-low" if str(value) == "CD" else ""


def level_cell(learning: LearningLevel | None, reassessed: LearningLevel | None = None) -> Cell:
    if learning is None:
        return Cell("—", _("Incomplete: some subjects have no result yet."), "r-missing")
    text = show.abbreviation(learning.level)
    if learning.adjusted_for:
        text = _("%(level)s ↑ (from %(from)s, %(subject)s)") % {
            "level": text,
            "from": show.abbreviation(learning.unadjusted),
            "subject": learning.adjusted_for,
        }
    title = f"{show.name(learning.level)}\n{explained(learning.explain())}"
    if reassessed is not None:
        text += f" → {show.abbreviation(reassessed.level)}"
        title += "\n\n" + _("After the summer re-assessment:") + "\n"
        title += explained(reassessed.explain())
    css = "r-adjusted" if learning.adjusted_for else ""
    final = reassessed or learning
    return Cell(text, title, css + (" r-low" if final.level == "CD" else ""), text)


def secondary_subject_cell(student: SecondaryStudentResults, code: str, period: Period) -> Cell:
    if not student.takes(code):  # grades 10-12: an elective the student did not choose
        return Cell("", _("Does not study this subject"), "r-missing")
    result = student.subject(code)
    one = result if period == "year" else result.term(period)
    if one.exempt:  # an approved exemption: no result, and none is missing
        text = _("Exempt")
        return Cell(text, explained(one.explain()), "r-exempt", text)
    if one.value is None:
        return Cell("…", explained(one.explain()), "r-missing")
    text = show.value(one.value)
    title = explained(one.explain())
    raw = one.value if isinstance(one.value, Decimal) else text
    if period == "year" and result.reassessment is not None:
        text += f" → {show.value(result.reassessment)}"
        title += "\n" + _("Summer re-assessment: %(value)s") % {
            "value": show.value(result.reassessment)
        }
        raw = text
    final = result.final if period == "year" else one.value
    return Cell(text, title, subject_css(final), raw)


def conduct_cell(student: SecondaryStudentResults, period: Period) -> Cell:
    conduct = student.conduct
    if period != "year":
        level = conduct.term(period)
        return Cell(show.abbreviation(level), show.name(level) if level else "", "", None)
    if conduct.year is None:
        return Cell("—", explained(conduct.explain()), "r-missing")
    text = show.abbreviation(conduct.year)
    title = explained(conduct.explain())
    if conduct.final != conduct.year:
        text += f" → {show.abbreviation(conduct.final)}"
        title += "\n" + _("After summer training: %(level)s") % {"level": show.name(conduct.final)}
    return Cell(text, title, "r-low" if conduct.final == "CD" else "", text)


def absences_cell(student: SecondaryStudentResults, period: Period) -> Cell:
    a = student.absences
    if period == "year":
        n, excused, unexcused = a.total, a.excused, a.unexcused
    else:
        n = a.term(period)
        excused = a.term1_excused if period == 1 else a.term2_excused
        unexcused = n - excused
    title = _("%(excused)s excused, %(unexcused)s unexcused (sessions)") % {
        "excused": excused,
        "unexcused": unexcused,
    }
    return Cell(str(n), title, "r-low" if period == "year" and n > 45 else "", n)


def award_cell(award) -> Cell:
    if award is None:
        return Cell("—", _("Incomplete: the year result is not known yet."), "r-missing")
    text = str(show.AWARDS[award.award]) if award.award else ""
    return Cell(text, explained(award.explain()), "r-award" if text else "", text)


def _summer_note(student: SecondaryStudentResults) -> str:
    """What the summer changed, before the rules' explanation of the decision taken after it:
    the re-assessed subjects (year result → re-assessment) and the learning level, the conduct
    after training (docs/gradebook.md#summer)."""
    lines = []
    conduct = student.conduct
    if conduct.final != conduct.year:
        lines.append(
            _("After summer training: conduct %(from)s → %(to)s.")
            % {"from": show.abbreviation(conduct.year), "to": show.abbreviation(conduct.final)}
        )
    if student.learning_reassessed is not None and student.learning_year is not None:
        subjects = "; ".join(
            f"{s.subject.name} {show.value(s.value)} → {show.value(s.reassessment)}"
            for s in student.subjects
            if s.reassessment is not None and s.subject.code in student.summer_reassessment
        )
        lines.append(
            _("After the summer re-assessment (%(subjects)s): year learning %(from)s → %(to)s.")
            % {
                "subjects": subjects,
                "from": show.abbreviation(student.learning_year.level),
                "to": show.abbreviation(student.learning_reassessed.level),
            }
        )
    return "\n".join(lines)


def promotion_cell(student: SecondaryStudentResults, grade: int) -> Cell:
    decision = student.promotion
    if decision is None:
        return Cell("—", _("Incomplete: the year result is not known yet."), "r-missing")
    title = explained(decision.explain())
    summer = _summer_note(student)
    if summer:
        title = summer + "\n" + title
    if decision.promoted:
        text = _("Promoted")
        if student.completes_programme:
            text = _("Completed lower secondary") if grade == 9 else _("Completed upper secondary")
        if student.learning_reassessed is not None:
            text += " " + _("(after re-assessment)")
        elif student.conduct.final != student.conduct.year:
            text += " " + _("(after summer training)")
        return Cell(text, title, "r-wrap", text)
    assert decision.next_step is not None  # not promoted: there is a next step
    text = str(show.NEXT_STEPS[decision.next_step])
    if student.summer_reassessment:
        text += ": " + ", ".join(sorted(student.summer_reassessment))
    return Cell(text, title, "r-low r-wrap", text)


# --- tables -----------------------------------------------------------------------------------


def _identity(student) -> list[Cell]:
    return [
        Cell(str(student.roll_number), raw=student.roll_number),
        Cell(student.student.full_name),
    ]


def secondary_table(results: ClassResults, period: Period) -> SummaryTable:
    headers = [Header(_("No.")), Header(_("Full name"))]
    headers += [subject_header(s) for s in results.subjects]
    headers += [
        Header(_("Learning"), _("Learning result (kết quả học tập)")),
        Header(_("Conduct"), _("Conduct (kết quả rèn luyện)")),
        Header(_("Absent"), _("Sessions absent, excused and unexcused")),
    ]
    if period == "year":
        headers += [Header(_("Award")), Header(_("Promotion"), _("Promotion or next step"))]
    table = SummaryTable(headers)
    grade = results.class_group.grade
    for student in results.students:
        assert isinstance(student, SecondaryStudentResults)  # a secondary class's results
        row = _identity(student)
        row += [secondary_subject_cell(student, s.code, period) for s in results.subjects]
        if period == "year":
            row.append(level_cell(student.learning_year, student.learning_reassessed))
        else:
            row.append(level_cell(student.learning(period)))
        row += [conduct_cell(student, period), absences_cell(student, period)]
        if period == "year":
            row += [award_cell(student.award), promotion_cell(student, grade)]
        table.rows.append(row)
    return table


def primary_subject_cell(student: PrimaryStudentResults, code: str, period: Period) -> Cell:
    result = student.subject(code)
    level = result.level(period)
    text = show.abbreviation(level)
    title = f"{result.subject.name}: {show.name(level)}" if level else _("No level yet.")
    if result.subject.periodic_test:
        test = result.test(period)
        shown = "—" if test is None else str(test)
        if period == "year" and result.retest is not None:
            shown = f"{result.year_test} → {result.retest}"
        text += f" · {shown}"
        title += "\n" + _("Test: %(score)s") % {"score": shown}
    missing = level is None or (result.subject.periodic_test and result.test(period) is None)
    return Cell(text, title, "r-missing" if missing else ("r-low" if level == "CHT" else ""), text)


def quality_cell(levels: dict, items: tuple) -> Cell:
    names = dict(items)
    counts = {code: sum(1 for v in levels.values() if v == code) for code in ("T", "D", "CCG")}
    text = " ".join(f"{n}{show.abbreviation(code)}" for code, n in counts.items() if n) or "—"
    title = "\n".join(f"{names[code]}: {show.name(v) if v else '—'}" for code, v in levels.items())
    missing = any(v is None for v in levels.values())
    return Cell(text, title, "r-missing" if missing else ("r-low" if counts["CCG"] else ""), text)


def completion_cell(student: PrimaryStudentResults) -> Cell:
    if student.completed_grade is None:
        return Cell("—", "", "r-missing")
    if not student.completed_grade:
        return Cell(_("Not completed"), "", "r-low r-wrap", _("Not completed"))
    text = _("Completed the primary programme") if student.completes_programme else _("Completed")
    return Cell(text, "", "r-wrap", text)


def primary_table(results: ClassResults, period: Period) -> SummaryTable:
    headers = [Header(_("No.")), Header(_("Full name"))]
    headers += [subject_header(s) for s in results.subjects]
    headers += [Header(_("Qualities")), Header(_("Competencies"))]
    if period == "year":
        headers += [Header(_("Result"), _("End-of-year result")), Header(_("Award"))]
        headers.append(Header(_("Completion")))
    table = SummaryTable(headers)
    for student in results.students:
        assert isinstance(student, PrimaryStudentResults)  # a primary class's results
        row = _identity(student)
        row += [primary_subject_cell(student, s.code, period) for s in results.subjects]
        row.append(quality_cell(student.qualities(period), QUALITIES))
        row.append(quality_cell(student.competencies(period), COMPETENCIES))
        if period == "year":
            result = student.year_result
            row.append(
                Cell(
                    show.abbreviation(result),
                    explained(student.year_result_explanation),
                    "r-missing" if result is None else ("r-low" if result == "CHT" else ""),
                    str(result or ""),
                )
            )
            row += [award_cell(student.award), completion_cell(student)]
        table.rows.append(row)
    return table


def summary_table(results: ClassResults, period: Period) -> SummaryTable:
    if results.primary:
        return primary_table(results, period)
    return secondary_table(results, period)
