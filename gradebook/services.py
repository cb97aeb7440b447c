"""Every write to the gradebook. Each function validates, writes and appends to the ledger in
one transaction; views, imports and corrections all come through here."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from config import sql
from gradebook.columns import Column, canonical_value
from gradebook.db import create_locked, lock_or_create
from gradebook.ledger import append_event
from gradebook.messages import invalid_mark_message
from gradebook.models import EventSource, GradebookSettings, Lock, Mark, MarkEvent
from gradebook.rules import InvalidMark
from gradebook.signals import mark_changing
from schools.models import ClassGroup, Enrollment, Student


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


@dataclass(frozen=True)
class SaveResult:
    mark: Mark
    event: MarkEvent | None  # None when the value did not change
    row: dict[tuple[str, str], str]  # (kind, slot) → value of the cell's row after the save

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


_COVERING = """
    FROM {k.table} k
    WHERE k."year_id" = %s AND k."released_at" IS NULL AND k."starts_at" <= %s
        AND (k."term" IS NULL OR k."term" = %s)
        AND (k."class_group_id" IS NULL OR k."class_group_id" = %s)
        AND (k."subject_id" IS NULL OR k."subject_id" = %s)
    ORDER BY k."starts_at" LIMIT 1
"""
_COVERING_LOCK = sql.statement("SELECT {k.columns}" + _COVERING, k=Lock)
_LOCK = sql.statement('SELECT {k.columns} FROM {k.table} k WHERE k."id" = %s', k=Lock)


def _covering_params(class_group: ClassGroup, column: Column) -> list:
    now = sql.datetime_param(timezone.now())
    return [class_group.year_id, now, column.term, class_group.pk, column.subject_id]


def cell_lock(*, class_group: ClassGroup, column: Column) -> Lock | None:
    """The lock that covers this cell now, if any: the earliest of `Lock.objects.covering`
    (hand-written, config/sql.py: every save and grid page asks)."""
    row = sql.fetch_one(_COVERING_LOCK, _covering_params(class_group, column))
    return None if row is None else sql.build(Lock, row)


_ROW = """
    SELECT {m.columns}, (SELECT k."id" COVERING)
    FROM {m.table} m
    WHERE m."student_id" = %s AND m."year_id" = %s AND m."term" = %s AND m."subject_id" SUBJECT
    ORDER BY m."id"
"""


def _row_statement(subject: str, lock: str) -> str:
    text = _ROW.replace("COVERING", _COVERING).replace("SUBJECT", subject)
    return sql.statement(text + lock, m=Mark, k=Lock)


_ROW_STATEMENTS = {  # (subject book, the database locks rows) → statement
    (subject, locks): _row_statement("= %s" if subject else "IS NULL", lock)
    for subject in (True, False)
    for locks, lock in ((True, " FOR UPDATE"), (False, ""))
}


_MARK_FIELDS = [f.attname for f in Mark._meta.concrete_fields]
_KIND, _SLOT, _VALUE = (_MARK_FIELDS.index(name) for name in ("kind", "slot", "value"))


@dataclass
class LockedRow:
    """The existing cells of one row (student × year × term × subject, or the homeroom book),
    locked for the transaction in id order, with the lock that covers them: one statement for
    what a save reads (hand-written, config/sql.py)."""

    rows: dict[tuple[str, str], tuple]  # (kind, slot) → the cell's selected values
    lock_id: int | None
    cells: dict[tuple[str, str], Mark] = field(default_factory=dict)  # the ones built
    covering: Lock | None = None  # the lock, when it was read whole

    @classmethod
    def read(cls, *, class_group: ClassGroup, student: Student, column: Column) -> LockedRow:
        statement = _ROW_STATEMENTS[column.subject_id is not None, sql.locks_rows()]
        params = _covering_params(class_group, column)
        params += [student.pk, class_group.year_id, column.term]
        if column.subject_id is not None:
            params.append(column.subject_id)
        rows = sql.fetch_all(statement, params)
        if not rows:  # no cell of the row yet: the lock is asked on its own
            lock = cell_lock(class_group=class_group, column=column)
            return cls(rows={}, lock_id=lock.pk if lock else None, covering=lock)
        return cls(rows={(r[_KIND], r[_SLOT]): r[:-1] for r in rows}, lock_id=rows[0][-1])

    def lock(self) -> Lock | None:
        if self.covering is None and self.lock_id is not None:
            found = sql.fetch_one(_LOCK, [self.lock_id])
            self.covering = None if found is None else sql.build(Lock, found)
        return self.covering

    def cell(self, column: Column) -> Mark | None:
        """The column's existing cell (built only now: a save needs one of the row's)."""
        key = (column.kind, column.slot)
        if key not in self.cells and key in self.rows:
            self.cells[key] = sql.build(Mark, self.rows[key])
        return self.cells.get(key)

    def values(self) -> dict[tuple[str, str], str]:
        values = {key: row[_VALUE] for key, row in self.rows.items()}
        return values | {key: mark.value for key, mark in self.cells.items()}


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

    Refuses (raising a GradebookError) an invalid value, a cell under a lock (unless an approved
    correction applies it: `bypass_locks`), and a save based on an old version (`base_version`
    not the current one; None skips the check, for imports that show a diff first). An unchanged
    value writes nothing. Permission to write is checked by the caller's access getter;
    `enrolled` says the caller has already found the student's enrolment in the class.
    """
    limit = {}
    if column.value_type == "text":  # the school's limit applies to comments only
        school_id = class_group.year.school_id
        limit["max_length"] = max_length or settings_for(school_id).comment_max_length
    try:
        value = canonical_value(text, value_type=column.value_type, **limit)
    except InvalidMark as error:
        raise InvalidValue(invalid_mark_message(error)) from error
    if not enrolled and not _enrolled(student, class_group):
        raise InvalidValue(_("This student is not in class %(name)s.") % {"name": class_group.name})
    row = LockedRow.read(class_group=class_group, student=student, column=column)
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
    sql.update(mark, ["value", "version", "updated_at", "updated_by"])
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
    return SaveResult(mark=mark, event=event, row=row.values())


def locked_cell(
    *, class_group: ClassGroup, student: Student, column: Column, missing: bool = False
) -> Mark:
    """The cell's row, created empty if new, locked for the rest of the transaction;
    `missing`: the caller has just found it absent, so it is created without looking again."""
    key = {
        "student": student,
        "year_id": class_group.year_id,
        "term": column.term,
        "subject_id": column.subject_id,
        "kind": column.kind,
        "slot": column.slot,
    }
    defaults = {"school_id": class_group.year.school_id}
    find = create_locked if missing else lock_or_create
    return find(Mark, defaults=defaults, **key)


def lock_message(lock: Lock) -> str:
    if lock.kind == "submitted":
        return _("This gradebook was submitted and is locked. Ask for a correction instead.")
    return _("Locked by the school: %(reason)s. Ask for a correction instead.") % {
        "reason": lock.reason or _("no reason given")
    }
