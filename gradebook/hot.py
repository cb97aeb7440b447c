"""The gradebook's hand-written statements: what every mark save, grid page and grid poll runs.

Compiling a queryset costs more CPU than running its SQL (bench/RESULTS.md, 2026-12-05: 1.8 ms
against 0.2 ms), so these few statements are written once, as text, with the toolkit of
config/sql.py, and give the ORM's own instances. Beside each function `<name>` stands
`<name>_orm`, the same through the ORM: it says what the SQL means, and
tests/gradebook/test_hot_sql.py holds every pair equal on SQLite and PostgreSQL. Each
statement is written whole; two that share a part are composed from named fragments here, at
import. A new fast path comes here only with a measurement that shows the need
(docs/development.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from django.db import models
from django.utils import timezone

from config import sql
from gradebook.models import CellScope, LedgerHead, Lock, Mark, MarkEvent
from schools.models import Enrollment, Student

if TYPE_CHECKING:
    from gradebook.columns import Column

# --- The covering lock -------------------------------------------------------------------------


def _covers(alias: str) -> str:
    """`CellScope.locks()` as SQL: the lock's year is the cell's and each of its
    `ALL_OR_EQUAL` columns is NULL or the cell's (a `%s` each, in that order)."""

    def column(name: str) -> str:
        field = Lock._meta.get_field(name)
        assert isinstance(field, models.Field)  # a concrete column of the lock
        return f"{alias}.{sql.quote(field.column)}"

    conditions = [f"{column('year_id')} = %s"]
    for name in CellScope.ALL_OR_EQUAL:
        conditions.append(f"({column(name)} IS NULL OR {column(name)} = %s)")
    return " AND ".join(conditions)


_IN_FORCE = 'k."released_at" IS NULL AND k."starts_at" <= %s'  # LockQuerySet.active
_FIRST_COVERING = " ".join(
    ("FROM {k.table} k WHERE", _covers("k"), "AND", _IN_FORCE, 'ORDER BY k."starts_at" LIMIT 1')
)


_SCOPE_VALUES = attrgetter(*CellScope.ALL_OR_EQUAL)  # in `_covers`' order


def _covering_params(cell: CellScope) -> list[Any]:
    """The values of `_FIRST_COVERING`'s placeholders, in order."""
    return [cell.year_id, *_SCOPE_VALUES(cell), sql.datetime_param(timezone.now())]


_CELL_LOCK = sql.statement("SELECT {k.columns} " + _FIRST_COVERING, k=Lock)


def cell_lock(cell: CellScope) -> Lock | None:
    """The lock that covers the cell now, if any: the earliest in force."""
    row = sql.fetch_one(_CELL_LOCK, _covering_params(cell))
    return None if row is None else sql.build(Lock, row)


def cell_lock_orm(cell: CellScope) -> Lock | None:
    covering = Lock.objects.covering(
        year_id=cell.year_id, term=cell.term, class_group_id=cell.class_group_id,
        subject_id=cell.subject_id,
    )  # fmt: skip
    return covering.order_by("starts_at").first()


_LOCK = sql.statement('SELECT {k.columns} FROM {k.table} k WHERE k."id" = %s', k=Lock)


def lock_with_id(lock_id: int) -> Lock | None:
    row = sql.fetch_one(_LOCK, [lock_id])
    return None if row is None else sql.build(Lock, row)


def lock_with_id_orm(lock_id: int) -> Lock | None:
    return Lock.objects.filter(pk=lock_id).first()


# --- The row a save reads ----------------------------------------------------------------------

_ROW = " ".join(
    (
        'SELECT {m.columns}, (SELECT k."id"',
        _FIRST_COVERING,
        ") FROM {m.table} m",
        'WHERE m."student_id" = %s AND m."year_id" = %s AND m."term" = %s',
    )
)
_OF_SUBJECT = ' AND m."subject_id" = %s'
_OF_HOMEROOM = ' AND m."subject_id" IS NULL'
_IN_ID_ORDER = ' ORDER BY m."id"'
_FOR_UPDATE = " FOR UPDATE"
_ROW_STATEMENTS = {  # (a subject book's row, the database locks rows) → statement
    (True, True): sql.statement(_ROW + _OF_SUBJECT + _IN_ID_ORDER + _FOR_UPDATE, m=Mark, k=Lock),
    (True, False): sql.statement(_ROW + _OF_SUBJECT + _IN_ID_ORDER, m=Mark, k=Lock),
    (False, True): sql.statement(_ROW + _OF_HOMEROOM + _IN_ID_ORDER + _FOR_UPDATE, m=Mark, k=Lock),
    (False, False): sql.statement(_ROW + _OF_HOMEROOM + _IN_ID_ORDER, m=Mark, k=Lock),
}
_MARK_FIELDS = [f.attname for f in Mark._meta.concrete_fields]
_KIND, _SLOT, _VALUE = (_MARK_FIELDS.index(name) for name in ("kind", "slot", "value"))


@dataclass
class LockedRow:
    """The existing cells of one row (a student's term of a subject book, or of the homeroom
    book), locked for the transaction in id order, with the lock that covers them: what a save
    reads. A cell is built only when asked for (a save needs one of the row's)."""

    rows: dict[tuple[str, str], tuple]  # (kind, slot) → the cell's selected values, unbuilt
    lock_id: int | None
    cells: dict[tuple[str, str], Mark] = field(default_factory=dict)  # built, or new
    covering: Lock | None = None  # the lock, once read whole

    def lock(self) -> Lock | None:
        if self.covering is None and self.lock_id is not None:
            self.covering = lock_with_id(self.lock_id)
        return self.covering

    def cell(self, column: Column) -> Mark | None:
        """The column's existing cell (or the one the save has put in `cells`)."""
        key = (column.kind, column.slot)
        if key not in self.cells and key in self.rows:
            self.cells[key] = sql.build(Mark, self.rows[key])
        return self.cells.get(key)

    def values(self) -> dict[tuple[str, str], str]:
        """(kind, slot) → value of every cell of the row."""
        values = {key: row[_VALUE] for key, row in self.rows.items()}
        return values | {key: mark.value for key, mark in self.cells.items()}


def locked_row(cell: CellScope, *, student_id: int) -> LockedRow:
    """The student's row of the cell's book and term, its cells locked, with their covering
    lock: one statement (two when the row has no cell yet: the lock is then asked alone)."""
    subject = cell.subject_id is not None
    params = [*_covering_params(cell), student_id, cell.year_id, cell.term]
    if subject:
        params.append(cell.subject_id)
    rows = sql.fetch_all(_ROW_STATEMENTS[subject, sql.locks_rows()], params)
    if not rows:
        lock = cell_lock(cell)
        return LockedRow(rows={}, lock_id=lock.pk if lock else None, covering=lock)
    return LockedRow(rows={(r[_KIND], r[_SLOT]): r[:-1] for r in rows}, lock_id=rows[0][-1])


def locked_row_orm(cell: CellScope, *, student_id: int) -> LockedRow:
    marks = Mark.objects.select_for_update().filter(
        student_id=student_id, year_id=cell.year_id, term=cell.term, subject_id=cell.subject_id
    )
    lock = cell_lock_orm(cell)
    return LockedRow(
        rows={},
        lock_id=lock.pk if lock else None,
        cells={(mark.kind, mark.slot): mark for mark in marks.order_by("id")},
        covering=lock,
    )


# --- A save's writes ---------------------------------------------------------------------------


def locked_mark(
    *,
    school_id: int,
    student_id: int,
    year_id: int,
    term: int,
    subject_id: int | None,
    kind: str,
    slot: str,
    missing: bool = False,
) -> Mark:
    """The cell's row, created empty if new, locked (SELECT … FOR UPDATE) for the rest of the
    transaction; `missing`: the caller has just found it absent, so it is created without
    looking first. Safe when two transactions create it at once: the loser of the insert
    (`ON CONFLICT DO NOTHING`) locks the winner's row."""
    key = dict(student_id=student_id, year_id=year_id, term=term, subject_id=subject_id,
               kind=kind, slot=slot)  # fmt: skip
    found = None if missing else sql.select_for_update(Mark, **key)
    if found is None:
        sql.insert(Mark(school_id=school_id, **key), ignore_conflicts=True)
        found = sql.select_for_update(Mark, **key)
        assert found is not None  # inserted now, or by the transaction that won the insert
    return found


def locked_mark_orm(
    *,
    school_id: int,
    student_id: int,
    year_id: int,
    term: int,
    subject_id: int | None,
    kind: str,
    slot: str,
    missing: bool = False,
) -> Mark:
    key = dict(student_id=student_id, year_id=year_id, term=term, subject_id=subject_id,
               kind=kind, slot=slot)  # fmt: skip
    cells = Mark.objects.select_for_update()
    found = None if missing else cells.filter(**key).first()
    if found is None:
        Mark.objects.bulk_create([Mark(school_id=school_id, **key)], ignore_conflicts=True)
        found = cells.get(**key)
    return found


_MARK_WRITE = ["value", "version", "updated_at", "updated_by"]


def update_mark_value(mark: Mark) -> None:
    """Store the cell's new value with its version, time and author."""
    sql.update(mark, _MARK_WRITE)


def update_mark_value_orm(mark: Mark) -> None:
    mark.save(update_fields=_MARK_WRITE)


def locked_ledger_head(*, school_id: int, genesis: str) -> LedgerHead:
    """The school's ledger head, created at `genesis` if missing, locked for the rest of the
    transaction: the events of a school are numbered one after the other."""
    found = sql.select_for_update(LedgerHead, school_id=school_id)
    if found is None:
        sql.insert(LedgerHead(school_id=school_id, hash=genesis), ignore_conflicts=True)
        found = sql.select_for_update(LedgerHead, school_id=school_id)
        assert found is not None  # inserted now, or by the transaction that won the insert
    return found


def locked_ledger_head_orm(*, school_id: int, genesis: str) -> LedgerHead:
    heads = LedgerHead.objects.select_for_update()
    found = heads.filter(school_id=school_id).first()
    if found is None:
        LedgerHead.objects.bulk_create(
            [LedgerHead(school_id=school_id, hash=genesis)], ignore_conflicts=True
        )
        found = heads.get(school_id=school_id)
    return found


def append_ledger_event(event: MarkEvent, *, head: LedgerHead) -> None:
    """Store a numbered and chained event, and move the school's head (locked by
    `locked_ledger_head`) to it."""
    sql.insert(event)
    head.seq, head.hash = event.seq, event.hash
    sql.update(head, ["seq", "hash"])


def append_ledger_event_orm(event: MarkEvent, *, head: LedgerHead) -> None:
    event.save(force_insert=True)
    head.seq, head.hash = event.seq, event.hash
    head.save(update_fields=["seq", "hash"])


# --- The grid's reads --------------------------------------------------------------------------

_LEDGER_CURSOR = sql.statement(
    'SELECT h."seq" FROM {h.table} h WHERE h."school_id" = %s', h=LedgerHead
)


def ledger_cursor(school_id: int) -> int:
    """The school's last ledger event number (0 before the first): changes after it are
    "since" a page. Every open grid asks every 10 seconds."""
    found = sql.fetch_one(_LEDGER_CURSOR, [school_id])
    return found[0] if found else 0


def ledger_cursor_orm(school_id: int) -> int:
    heads = LedgerHead.objects.filter(school_id=school_id)
    return heads.values_list("seq", flat=True).first() or 0


_ENROLLMENT = sql.statement(
    """
    SELECT {e.columns}, {s.columns}
    FROM {e.table} e JOIN {s.table} s ON s."id" = e."student_id"
    WHERE e."class_group_id" = %s AND e."student_id" = %s
    """,
    e=Enrollment,
    s=Student,
)


def class_enrollment(*, class_group_id: int, student_id: int) -> Enrollment | None:
    """The student's place in the class, with the student, or None (a homeroom cell save)."""
    if not sql.ids_fit(class_group_id, student_id):
        return None  # an id from the address or a request beyond the database's: no such row
    row = sql.fetch_one(_ENROLLMENT, [class_group_id, student_id])
    if row is None:
        return None
    enrollment, student = sql.build_all(row, Enrollment, Student)
    assert isinstance(enrollment, Enrollment) and isinstance(student, Student)  # an inner join
    enrollment.student = student
    return enrollment


def class_enrollment_orm(*, class_group_id: int, student_id: int) -> Enrollment | None:
    if not sql.ids_fit(class_group_id, student_id):
        return None  # a foreign key's lookup is not guarded by the ORM as a primary key's is
    enrollments = Enrollment.objects.select_related("student")
    return enrollments.filter(class_group_id=class_group_id, student_id=student_id).first()
