"""Every write to the gradebook. Each function validates, writes and appends to the ledger in
one transaction; views, imports and corrections all come through here."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import User
from gradebook import hot
from gradebook.columns import (
    Column,
    absence_warning,
    canonical_value,
    check_absence_count,
    term_school_days,
)
from gradebook.curriculum import regular_marks_per_term
from gradebook.ledger import append_event
from gradebook.messages import invalid_mark_message
from gradebook.models import (
    CellScope,
    EventSource,
    Exemption,
    GradebookSettings,
    Kind,
    Lock,
    Mark,
    MarkEvent,
)
from gradebook.rules import InvalidMark
from gradebook.signals import mark_changing
from schools import programme
from schools.models import (
    ClassGroup,
    CurriculumEntry,
    Enrollment,
    Student,
    SubjectChoice,
    Term,
)


class GradebookError(Exception):
    """A write the gradebook refuses; `message` is translated for the user."""

    code = "refused"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidValue(GradebookError):
    code = "invalid"


class Locked(GradebookError):
    code = "locked"


class Conflict(GradebookError):
    """The cell changed since the client read it; carries the current value and version."""

    code = "conflict"

    def __init__(self, message: str, *, mark: Mark) -> None:
        super().__init__(message)
        self.mark = mark


def required_text(text: str, message: str) -> str:
    """`text` stripped; a GradebookError saying `message` when nothing is left (a reason, a
    note that a lock or a decision must give)."""
    cleaned = (text or "").strip()
    if not cleaned:
        raise GradebookError(message)
    return cleaned


@dataclass(frozen=True)
class SaveResult:
    mark: Mark
    event: MarkEvent | None  # None when the value did not change
    row: dict[tuple[str, str], str]  # (kind, slot) → value of the cell's row after the save
    warning: str = ""  # saved, but worth a second look (translated; the grid's status line)

    @property
    def changed(self) -> bool:
        return self.event is not None


def settings_for(school_id: int) -> GradebookSettings:
    found = GradebookSettings.objects.filter(school_id=school_id).first()
    return found or GradebookSettings(school_id=school_id)


def normalise_ip(address: str | None) -> str | None:
    """The client's address as the database gives it back (the ledger hashes it): an IPv4
    client of an IPv6 socket (`::ffff:10.0.0.7`) is recorded as its IPv4 address."""
    try:
        ip = ipaddress.ip_address(address) if address else None
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return None if ip is None else str(ip)


def _cell_scope(class_group: ClassGroup, column: Column) -> CellScope:
    return CellScope(
        year_id=class_group.year_id, class_group_id=class_group.pk,
        subject_id=column.subject_id, term=column.term,
    )  # fmt: skip


def cell_lock(*, class_group: ClassGroup, column: Column) -> Lock | None:
    """The lock that covers this cell now, if any: the earliest of `Lock.objects.covering`
    (a hand-written statement, gradebook/hot.py: every save and grid page asks)."""
    return hot.cell_lock(_cell_scope(class_group, column))


def _check_absences(class_group: ClassGroup, column: Column, value: str) -> None:
    """An absence count above its term's school days is refused (docs/gradebook.md#absences)."""
    term = Term.objects.filter(year_id=class_group.year_id, number=column.term).first()
    if term is None or not value:
        return
    days = term_school_days(term.starts_on, term.ends_on)
    dates = (
        date_format(term.starts_on, "SHORT_DATE_FORMAT"),
        date_format(term.ends_on, "SHORT_DATE_FORMAT"),
    )
    try:
        check_absence_count(int(value), school_days=days, dates=dates)
    except InvalidMark as error:
        raise InvalidValue(invalid_mark_message(error)) from error


def _absences_warning(values: dict[tuple[str, str], str]) -> str:
    """The warning of a term whose absences, excused and unexcused, pass the year's limit."""
    kinds = (Kind.ABSENT_EXCUSED, Kind.ABSENT_UNEXCUSED)
    return absence_warning(sum(int(values.get((kind, ""), "") or 0) for kind in kinds))


def exempt(class_group: ClassGroup, student: Student, column: Column) -> bool:
    """Whether an approved exemption covers the student's subject cell (one query)."""
    assert column.subject_id is not None
    return Exemption.objects.covering(
        year_id=class_group.year_id, student_id=student.pk,
        subject_id=column.subject_id, term=column.term,
    ).exists()  # fmt: skip


def _check_studies(class_group: ClassGroup, student: Student, column: Column) -> None:
    """Grades 10-12: refuse a subject cell of a student who does not study the subject (an
    elective not chosen), and a regular mark past the student's count (the learning-topic
    clusters' mark of a student who does not take them): one query."""
    assert column.subject_id is not None  # a subject cell
    year_choices = SubjectChoice.objects.filter(student_id=student.pk, year_id=class_group.year_id)
    chosen = year_choices.filter(subject_id=OuterRef("subject_id"))
    entry = (
        CurriculumEntry.objects.filter(
            year_id=class_group.year_id, grade=class_group.grade, subject_id=column.subject_id
        )
        .select_related("subject")
        .annotate(
            chosen=Exists(chosen),
            topics=Exists(chosen.filter(with_topics=True)),
            has_choice=Exists(year_choices),  # none saved: every subject is studied
        )
        .first()
    )
    if entry is None:
        return
    studied = {entry.subject.code} if entry.chosen else set()
    if entry.has_choice and not programme.takes(entry.subject.code, studied):
        raise InvalidValue(
            _("%(name)s does not study %(subject)s this year: the cell takes no mark.")
            % {"name": student.full_name, "subject": entry.subject.name}
        )
    regular = regular_marks_per_term(entry, with_topics=entry.topics)
    if column.kind == Kind.REGULAR and column.slot.isdigit() and int(column.slot) > regular:
        raise InvalidValue(
            _(
                "%(name)s does not take the learning-topic clusters of this subject: "
                "this regular mark is not theirs."
            )
            % {"name": student.full_name}
        )


def _enrolled(student: Student, class_group: ClassGroup) -> bool:
    return Enrollment.objects.filter(student=student, class_group=class_group).exists()


@transaction.atomic
def save_mark(
    *,
    actor: User,
    class_group: ClassGroup,
    student: Student,
    column: Column,
    text: str,
    base_version: int | None,
    source: str = EventSource.GRID,
    reason: str = "",
    client_ip: str | None = None,
    bypass_locks: bool = False,
    max_length: int | None = None,
    enrolled: bool = False,
) -> SaveResult:
    """Set one cell from typed text.

    Refuses (raising a GradebookError) an invalid value, the cell of an exempt student
    (gradebook.models.Exemption), a cell under a lock (unless an approved
    correction applies it, or the summer's entry has applied the summer's own lock rule,
    gradebook.summer.summer_lock: `bypass_locks`), and a save based on an old version
    (`base_version` not the current one; None skips the check, for imports that show a diff
    first). An unchanged value writes nothing. Permission to write is checked by the caller's
    access getter; `enrolled` says the caller has already found the student's enrolment in the
    class.
    """
    limit = {}
    if column.value_type == "text":  # the school's limit applies to comments only
        school_id = class_group.year.school_id
        limit["max_length"] = max_length or settings_for(school_id).comment_max_length
    try:
        value = canonical_value(text, value_type=column.value_type, **limit)
    except InvalidMark as error:
        raise InvalidValue(invalid_mark_message(error)) from error
    absences = column.value_type == "count"
    if absences:
        _check_absences(class_group, column, value)
    if not enrolled and not _enrolled(student, class_group):
        raise InvalidValue(_("This student is not in class %(name)s.") % {"name": class_group.name})
    subject_term = column.subject_id is not None and column.term in (1, 2)
    if subject_term and exempt(class_group, student, column):
        raise InvalidValue(
            _("%(name)s is exempt from this subject this term: the cell takes no mark.")
            % {"name": student.full_name}
        )
    if subject_term and programme.is_upper_secondary(class_group.grade):
        _check_studies(class_group, student, column)
    row = hot.locked_row(_cell_scope(class_group, column), student_id=student.pk)
    if not bypass_locks and (lock := row.lock()):
        raise Locked(lock_message(lock))
    mark_changing.send(
        sender=Mark, student=student, year_id=class_group.year_id, column=column, actor=actor
    )

    mark = row.cell(column)
    if mark is None:
        mark = locked_cell(class_group=class_group, student=student, column=column, missing=True)
        row.cells[column.kind, column.slot] = mark
    if base_version is not None and base_version != mark.version:
        if mark.value == value:  # someone saved the same value: no conflict to resolve
            return SaveResult(mark=mark, event=None, row=row.values())
        raise Conflict(_("Someone else changed this cell meanwhile."), mark=mark)
    if mark.value == value:
        return SaveResult(mark=mark, event=None, row=row.values())

    now = timezone.now()
    old_value = mark.value
    mark.value, mark.version = value, mark.version + 1
    mark.updated_at, mark.updated_by = now, actor
    hot.update_mark_value(mark)
    event = append_event(
        MarkEvent(
            school_id=class_group.year.school_id,
            mark=mark,
            old_value=old_value,
            new_value=value,
            version=mark.version,
            actor=actor,
            at=now,
            reason=reason,
            source=source,
            client_ip=normalise_ip(client_ip),
        )
    )
    values = row.values()
    warning = _absences_warning(values) if absences else ""
    return SaveResult(mark=mark, event=event, row=values, warning=warning)


def locked_cell(
    *, class_group: ClassGroup, student: Student, column: Column, missing: bool = False
) -> Mark:
    """The cell's row, created empty if new, locked for the rest of the transaction;
    `missing`: the caller has just found it absent, so it is created without looking again."""
    return hot.locked_mark(
        school_id=class_group.year.school_id, student_id=student.pk, year_id=class_group.year_id,
        term=column.term, subject_id=column.subject_id, kind=column.kind, slot=column.slot,
        missing=missing,
    )  # fmt: skip


def lock_message(lock: Lock) -> str:
    if lock.kind == "submitted":
        return _("This gradebook was submitted and is locked. Ask for a correction instead.")
    return _("Locked by the school: %(reason)s. Ask for a correction instead.") % {
        "reason": lock.reason or _("no reason given")
    }
