"""The Department's figures: per school and per class of the current year, how far the
gradebooks are filled and locked, how far the transcripts are signed, and what each school has
exported and uploaded (docs/department.md).

Aggregates only, counted by the database: no mark value, no student's or teacher's name is read
(the Department has no duty to see them). A fixed number of queries for any number of schools
and classes; the books' arithmetic is the gradebook's (`gradebook.completeness`: the same
required columns and the same lock rule as the school's own completion page).
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count, F, Max, Q

from gradebook.completeness import lock_state, required_columns
from gradebook.models import YEAR_TERM, Exemption, ExemptionState, Lock, Mark
from schools import programme
from schools.models import (
    ClassGroup,
    CurriculumEntry,
    Enrollment,
    School,
    SchoolYear,
    SubjectChoice,
    Term,
)
from transcripts.models import JobStatus, State, Transcript, TranscriptPackage, UploadStatus

TRANSCRIPT_STATES: tuple[str, ...] = (
    State.DRAFT,
    State.READY,
    State.SIGNED_HOMEROOM,
    State.SIGNED_PRINCIPAL,
    State.FINAL,
)
#: A transcript carries three signatures (homeroom teacher, principal, school seal); its state
#: says how many it has.
SIGNATURES_PER_TRANSCRIPT = 3
SIGNATURES_BY_STATE: dict[str, int] = {
    State.DRAFT: 0,
    State.READY: 0,
    State.SIGNED_HOMEROOM: 1,
    State.SIGNED_PRINCIPAL: 2,
    State.FINAL: 3,
}


def _percent(part: int, whole: int) -> int:
    return round(100 * part / whole) if whole else 0


@dataclass
class Progress:
    """The counts of a class, a school or a set of schools."""

    students: int = 0
    classes: int = 0
    books: int = 0
    books_complete: int = 0
    books_submitted: int = 0
    books_locked: int = 0
    cells_filled: int = 0
    cells_required: int = 0
    transcripts: Counter[str] = field(default_factory=Counter)

    def add(self, other: Progress) -> None:
        for name in (
            "students", "classes", "books", "books_complete", "books_submitted",
            "books_locked", "cells_filled", "cells_required",
        ):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.transcripts.update(other.transcripts)

    @property
    def completion_percent(self) -> int:
        """Share of the required cells of the term's gradebooks that are filled."""
        if not self.cells_required:
            return 100 if self.books else 0
        return _percent(self.cells_filled, self.cells_required)

    @property
    def books_closed(self) -> int:
        """Books submitted by their teacher or locked by the school."""
        return self.books_submitted + self.books_locked

    @property
    def without_transcript(self) -> int:
        """Current students whose transcript of the year has not been created yet."""
        return max(self.students - sum(self.transcripts.values()), 0)

    @property
    def signatures_done(self) -> int:
        return sum(SIGNATURES_BY_STATE[s] * n for s, n in self.transcripts.items())

    @property
    def signing_percent(self) -> int:
        """Signatures on the transcripts out of the three each current student's needs."""
        return _percent(self.signatures_done, SIGNATURES_PER_TRANSCRIPT * self.students)

    @property
    def final(self) -> int:
        return self.transcripts.get(State.FINAL, 0)

    def state_counts(self) -> list[int]:
        """The number of transcripts in each of TRANSCRIPT_STATES, in that order."""
        return [self.transcripts.get(state, 0) for state in TRANSCRIPT_STATES]


@dataclass
class ClassProgress(Progress):
    class_group: ClassGroup | None = None


@dataclass
class SchoolProgress(Progress):
    school: School | None = None
    year: SchoolYear | None = None
    packages_exported: int = 0
    packages_uploaded: int = 0
    last_upload_at: datetime.datetime | None = None
    class_rows: list[ClassProgress] = field(default_factory=list)


def default_term(schools: Iterable[School], today: datetime.date) -> int:
    """Term II once it has started in one of the schools' current years, else term I (one
    query)."""
    started = Term.objects.filter(
        year__school__in=list(schools), year__is_current=True, number=2, starts_on__lte=today
    )
    return 2 if started.exists() else 1


def schools_progress(schools: list[School], *, term: int) -> list[SchoolProgress]:
    """One SchoolProgress per school (in the given order), each with its classes', for the
    current year and the term: eleven queries whatever the number of schools."""
    years = {y.school_id: y for y in SchoolYear.objects.filter(school__in=schools, is_current=True)}
    year_ids = [y.pk for y in years.values()]
    classes = list(ClassGroup.objects.filter(year_id__in=year_ids).order_by("grade", "name"))
    class_rows = _class_progress(classes, year_ids, term)
    rows = {
        school.pk: SchoolProgress(school=school, year=years.get(school.pk)) for school in schools
    }
    school_of_year = {y.pk: y.school_id for y in years.values()}
    for class_row in class_rows:
        assert class_row.class_group is not None
        school_row = rows[school_of_year[class_row.class_group.year_id]]
        school_row.class_rows.append(class_row)
        school_row.add(class_row)
    packages = (
        TranscriptPackage.objects.filter(year_id__in=year_ids)
        .values("school_id")
        .annotate(
            exported=Count("pk", filter=Q(status=JobStatus.FINISHED)),
            uploaded=Count("pk", filter=Q(upload_status=UploadStatus.ACCEPTED)),
            last_upload=Max("accepted_at"),
        )
        .order_by()
    )
    for package in packages:
        row = rows[package["school_id"]]
        row.packages_exported = package["exported"]
        row.packages_uploaded = package["uploaded"]
        row.last_upload_at = package["last_upload"]
    return list(rows.values())


def _class_progress(
    classes: list[ClassGroup], year_ids: list[int], term: int
) -> list[ClassProgress]:
    """The classes' progress: nine grouped queries for any number of classes."""
    students = dict(
        Enrollment.objects.filter(class_group__in=classes, left_on__isnull=True)
        .values_list("class_group_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    entries: dict[tuple[int, int], list[CurriculumEntry]] = defaultdict(list)
    for entry in CurriculumEntry.objects.filter(year_id__in=year_ids).select_related("subject"):
        entries[entry.year_id, entry.grade].append(entry)
    filled = _filled_cells(year_ids, term)
    exempt = _exempt_students(year_ids, term)
    chosen, choosing = _subject_choices(year_ids)
    locks: dict[int, list[Lock]] = defaultdict(list)
    for lock in Lock.objects.active().filter(year_id__in=year_ids):
        locks[lock.year_id].append(lock)
    transcripts: dict[int, Counter[str]] = defaultdict(Counter)
    for class_id, state, n in (
        Transcript.objects.filter(year_id__in=year_ids)
        .values_list("class_group_id", "state")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        transcripts[class_id][state] += n
    rows = []
    for class_group in classes:
        row = ClassProgress(
            class_group=class_group,
            students=students.get(class_group.pk, 0),
            classes=1,
            transcripts=transcripts[class_group.pk],
        )
        for entry in entries[class_group.year_id, class_group.grade]:
            takers, clusters = row.students, 0
            if programme.is_upper_secondary(class_group.grade):  # each student's own subjects
                chose, clusters = chosen.get((class_group.pk, entry.subject_id), (0, 0))
                if entry.subject.code in programme.ELECTIVES:  # and those who chose nothing yet
                    takers = chose + row.students - choosing.get(class_group.pk, 0)
            _add_book(
                row, entry, term, filled, exempt, locks[class_group.year_id],
                takers=takers, clusters=clusters,
            )  # fmt: skip
        rows.append(row)
    return rows


def _add_book(
    row: ClassProgress,
    entry: CurriculumEntry,
    term: int,
    filled: dict[tuple[int, int, str, str], int],
    exempt: dict[tuple[int, int], int],
    locks: list[Lock],
    *,
    takers: int,
    clusters: int,
) -> None:
    """Count one class × subject gradebook of the term into the class's row: `takers` current
    students study the subject, `clusters` of them its learning-topic clusters (grades 10-12:
    their extra regular marks, gradebook.rules.topics)."""
    class_group = row.class_group
    assert class_group is not None
    plain = required_columns(entry, term)
    columns = required_columns(entry, term, with_topics=True) if clusters else plain
    assessed = max(takers - exempt.get((class_group.pk, entry.subject_id), 0), 0)
    required = assessed * len(plain) + clusters * (len(columns) - len(plain))
    done = sum(filled.get((class_group.pk, entry.subject_id, c.kind, c.slot), 0) for c in columns)
    done = min(done, required)
    state, _lock = lock_state(
        locks, class_group=class_group, subject_id=entry.subject_id, term=term
    )
    row.books += 1
    row.books_complete += int(done >= required)
    row.books_submitted += int(state == "submitted")
    row.books_locked += int(state == "locked")
    row.cells_filled += done
    row.cells_required += required


def _filled_cells(year_ids: list[int], term: int) -> dict[tuple[int, int, str, str], int]:
    """(class id, subject id, kind, slot) → how many of its current students have that cell
    filled in the term: counted by the database, no value leaves it."""
    marks = (
        Mark.objects.filter(
            year_id__in=year_ids,
            term=term,
            subject__isnull=False,
            student__enrollments__left_on__isnull=True,
            student__enrollments__class_group__year_id=F("year_id"),
        )
        .exclude(value="")
        .values_list("student__enrollments__class_group_id", "subject_id", "kind", "slot")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {(c, s, kind, slot): n for c, s, kind, slot, n in marks}


def _subject_choices(
    year_ids: list[int],
) -> tuple[dict[tuple[int, int], tuple[int, int]], dict[int, int]]:
    """Grades 10-12 (schools.SubjectChoice): (class id, subject id) → (current students who
    chose the subject, those of them taking its learning-topic clusters), and class id → its
    current students with any choice saved (the others study every subject). Two queries."""
    current = SubjectChoice.objects.filter(
        year_id__in=year_ids,
        student__enrollments__left_on__isnull=True,
        student__enrollments__class_group__year_id=F("year_id"),
    )
    chosen = {
        (c, s): (n, topics)
        for c, s, n, topics in current.values_list(
            "student__enrollments__class_group_id", "subject_id"
        )
        .annotate(
            n=Count("student_id", distinct=True),
            topics=Count("student_id", filter=Q(with_topics=True), distinct=True),
        )
        .order_by()
    }
    choosing = dict(
        current.values_list("student__enrollments__class_group_id")
        .annotate(n=Count("student_id", distinct=True))
        .order_by()
    )
    return chosen, choosing


def _exempt_students(year_ids: list[int], term: int) -> dict[tuple[int, int], int]:
    """(class id, subject id) → current students exempted from the subject in the term."""
    rows = (
        Exemption.objects.filter(
            year_id__in=year_ids,
            state=ExemptionState.APPROVED,
            term__in=(term, YEAR_TERM),
            student__enrollments__left_on__isnull=True,
            student__enrollments__class_group__year_id=F("year_id"),
        )
        .values_list("student__enrollments__class_group_id", "subject_id")
        .annotate(n=Count("student_id", distinct=True))
        .order_by()
    )
    return {(c, s): n for c, s, n in rows}


def totals(rows: Iterable[SchoolProgress]) -> SchoolProgress:
    """The sum of the schools' rows (the province's line)."""
    total = SchoolProgress()
    for row in rows:
        total.add(row)
        total.packages_exported += row.packages_exported
        total.packages_uploaded += row.packages_uploaded
    return total
