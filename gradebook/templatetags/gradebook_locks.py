"""Template tags of locks and corrections: the grid's lock panel, the dashboard's correction
counts, and words for cells and locks."""

from __future__ import annotations

from dataclasses import dataclass, field

from django import template
from django.db.models import Q
from django.utils import timezone

from accounts.access import SchoolAccess
from gradebook import locking
from gradebook.columns import COMPETENCIES, QUALITIES
from gradebook.completeness import BookStatus, book_status, status_of
from gradebook.grid_data import Cell, Grid
from gradebook.models import (
    CellScope,
    CorrectionRequest,
    CorrectionStatus,
    Kind,
    Lock,
    LockKind,
    Mark,
)
from schools.models import ClassGroup, CurriculumEntry, TeachingAssignment

register = template.Library()

SHORT_KIND_LABELS = {Kind.REGULAR: "TX", Kind.MIDTERM: "GK", Kind.FINAL: "CK"}
SLOT_NAMES = {Kind.QUALITY: dict(QUALITIES), Kind.COMPETENCY: dict(COMPETENCIES)}


@dataclass
class LockPanel:
    """Everything the grid's lock panel shows for one class × subject × term gradebook."""

    status: BookStatus
    locks: list[Lock] = field(default_factory=list)  # in force and covering this book
    scheduled: Lock | None = None  # the next lock (date) not yet in force
    can_submit: bool = False
    is_leader: bool = False

    @property
    def is_open(self) -> bool:
        return not self.locks

    @property
    def percent(self) -> int:
        required = self.status.required
        return round(100 * self.status.filled / required) if required else 100

    def is_own(self, lock: Lock) -> bool:
        """A lock of exactly this book (its submission, or a lock of this class × subject ×
        term), which the panel may release; broader locks are managed on the locks page."""
        status = self.status
        return (lock.class_group_id, lock.subject_id, lock.term) == (
            status.class_group.pk,
            status.entry.subject_id,
            status.term,
        )

    @property
    def own_locks(self) -> list[Lock]:
        return [lock for lock in self.locks if self.is_own(lock)]

    @property
    def other_locks(self) -> list[Lock]:
        return [lock for lock in self.locks if not self.is_own(lock)]


@register.simple_tag
def lock_panel(
    access: SchoolAccess,
    class_group: ClassGroup,
    entry: CurriculumEntry,
    term: int | str,
    grid: Grid | str | None = None,
) -> LockPanel | None:
    """`{% lock_panel access class_group entry term grid as panel %}`: the book's state, its
    locks and what this user may do about them, in a few queries whatever the class size (two
    when given the page's `grid`, whose students and cells it counts). None for anything but a
    term's gradebook (a year view has nothing to submit)."""
    term = int(term) if str(term).isdigit() else 0
    if term not in (1, 2):
        return None
    cell = CellScope(
        year_id=class_group.year_id, class_group_id=class_group.pk,
        subject_id=entry.subject_id, term=term,
    )  # fmt: skip
    covering = Lock.objects.active().filter(cell.locks())  # in force; `scheduled`: not yet
    scheduled = (
        Lock.objects.filter(cell.locks(), released_at__isnull=True, starts_at__gt=timezone.now())
        .order_by("starts_at")
        .first()
    )
    locks = list(
        covering.select_related("created_by", "class_group", "subject").order_by(
            "kind", "starts_at"
        )
    )
    if not isinstance(grid, Grid):  # a page without the grid: read the book
        status = book_status(class_group, entry, term)
        teaches = TeachingAssignment.objects.filter(
            teacher_id=access.user.pk, class_group=class_group, subject_id=entry.subject_id
        ).exists()
    else:
        status = _grid_status(grid, locks)
        teaches = grid.writer  # a subject book's writer is its assigned teacher
    submitted = any(lock.kind == LockKind.SUBMITTED and lock.term == term for lock in locks)
    return LockPanel(
        status=status,
        locks=locks,
        scheduled=scheduled,
        can_submit=teaches and not submitted and term in (1, 2),
        is_leader=access.has_any(locking.LEADERSHIP_ROLES),
    )


def _grid_status(grid: Grid, locks: list[Lock]) -> BookStatus:
    """The book's status from the rows the grid has read (current students, their cells) and
    the locks covering it (the year's other locks do not cover it)."""
    subject_id = grid.book.subject_id
    rows = [row for row in grid.rows if row.enrollment.left_on is None]
    filled = {
        (row.enrollment.student_id, subject_id, item.column.kind, item.column.slot)
        for row in rows
        for item in row.items
        if isinstance(item, Cell) and item.value != ""
    }
    students = [row.enrollment.student for row in rows]
    book = grid.book
    return status_of(book.class_group, book.entry, grid.term, students, filled, locks)


@dataclass(frozen=True)
class DashboardCorrections:
    is_leader: bool
    is_teacher: bool
    pending: int  # pending requests this user sees (all of the school for the leadership)


@register.simple_tag
def dashboard_corrections(access: SchoolAccess) -> DashboardCorrections:
    """`{% dashboard_corrections access as corrections %}`: the dashboard's buttons."""
    is_leader = access.has_any(locking.LEADERSHIP_ROLES)
    is_teacher = access.has_any({"teacher"})
    pending = CorrectionRequest.objects.filter(
        school=access.school, status=CorrectionStatus.PENDING
    )
    if not access.sees_whole_school:
        pending = pending.filter(
            Q(requested_by_id=access.user.pk) | Q(class_group__homeroom_teacher_id=access.user.pk)
        )
    count = pending.count() if (is_leader or is_teacher) else 0
    return DashboardCorrections(is_leader=is_leader, is_teacher=is_teacher, pending=count)


@register.filter
def cell_label(mark: Mark) -> str:
    """A cell's short name: "TX2", "GK", "CK", "Conduct", "Honesty"…"""
    if mark.kind in SHORT_KIND_LABELS:
        return f"{SHORT_KIND_LABELS[mark.kind]}{mark.slot}"
    label = str(Kind(mark.kind).label)
    slot_name = SLOT_NAMES.get(mark.kind, {}).get(mark.slot)
    if slot_name:
        return f"{label}: {slot_name}"
    return f"{label} {mark.slot}".strip()


@register.filter
def term_name(term: int | None) -> str:
    return locking.term_name(term)


@register.filter
def lock_scope(lock: Lock) -> str:
    return locking.lock_scope(lock)
