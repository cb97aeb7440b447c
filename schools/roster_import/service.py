"""The roster import as one service: read the file, validate every row, and write everything in
one transaction, or nothing at all when any row has an error."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.models import User
from schools.models import School, SchoolYear
from schools.roster_import import apply
from schools.roster_import.assignments import AssignmentPlan, plan_assignments
from schools.roster_import.columns import KINDS, Header, Record, find_header, records
from schools.roster_import.errors import ImportFileError, RowError
from schools.roster_import.reading import read_rows, too_many_rows_message
from schools.roster_import.students import StudentPlan, plan_students
from schools.roster_import.teachers import TeacherPlan, plan_teachers
from schools.roster_import.validate import Count

KINDS_NEEDING_A_YEAR = frozenset({"students", "assignments"})


@dataclass
class Outcome:
    """What happened: the errors of every row (then nothing was written), or the counts of what
    was written (or, for a dry run, would have been)."""

    errors: list[RowError] = field(default_factory=list)
    counts: list[Count] = field(default_factory=list)
    rows: int = 0
    ignored_columns: tuple[str, ...] = ()
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


def import_roster(
    *,
    school: School,
    year: SchoolYear | None,
    kind: str,
    data: bytes,
    filename: str,
    dry_run: bool = False,
    actor: User | None = None,
) -> Outcome:
    """Import one file of one kind ("students", "assignments", "teachers"). Raises
    ImportFileError when the file as a whole cannot be read (too large, not a spreadsheet).
    `actor`, who uploads it, signs the invitations a teachers file sends."""
    spec = KINDS[kind]
    if kind in KINDS_NEEDING_A_YEAR and year is None:
        raise ValueError(f"a {kind} import needs a school year")
    rows = read_rows(data, filename)
    header, errors = find_header(rows, spec)
    if header is None:
        return Outcome(errors=sorted(errors), dry_run=dry_run)
    data_rows = records(rows, header)
    if len(data_rows) > settings.ROSTER_IMPORT_MAX_ROWS:
        raise ImportFileError(too_many_rows_message())
    if not data_rows:
        message = _("The file has a header row but no data below it.")
        return Outcome(errors=[RowError(header.row, 0, "", message)], dry_run=dry_run)
    outcome = Outcome(rows=len(data_rows), ignored_columns=header.ignored, dry_run=dry_run)
    try:
        with transaction.atomic():
            _plan_and_apply(
                outcome, kind, data_rows, header=header, school=school, year=year, actor=actor
            )
    except IntegrityError:
        message = _("The school's data changed during the import; nothing was imported. Try again.")
        outcome.errors, outcome.counts = [RowError(header.row, 0, "", message)], []
    return outcome


def _plan_and_apply(
    outcome: Outcome,
    kind: str,
    rows: list[Record],
    *,
    header: Header,
    school: School,
    year: SchoolYear | None,
    actor: User | None,
) -> None:
    """Validation reads and the writes happen in the caller's transaction, so what was checked
    is what gets written."""
    plan: StudentPlan | AssignmentPlan | TeacherPlan
    if kind == "students":
        assert year is not None  # import_roster refuses a students import without one
        plan = plan_students(rows, header=header, school=school, year=year)
    elif kind == "assignments":
        assert year is not None  # import_roster refuses an assignments import without one
        plan = plan_assignments(rows, header=header, school=school, year=year)
    else:
        plan = plan_teachers(rows, header=header, school=school)
    if plan.errors:
        outcome.errors = sorted(plan.errors)
        return
    outcome.counts = plan.counts()
    if outcome.dry_run:
        return
    if isinstance(plan, StudentPlan):
        apply.apply_students(plan)
    elif isinstance(plan, AssignmentPlan):
        apply.apply_assignments(plan)
    else:
        apply.apply_teachers(plan, school=school, actor=actor)
