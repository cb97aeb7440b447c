"""Marks (one gradebook cell each), the append-only ledger, locks and corrections."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gradebook.rules import AdjustmentPolicy, FewSubjectsPolicy, RulesOptions
from gradebook.rules.codes import TermAssessment


class Kind(models.TextChoices):
    """What a cell holds. Secondary marks follow Circular 22; primary ones Circular 27."""

    REGULAR = TermAssessment.REGULAR.value, _("Regular assessment (ĐĐGtx)")
    MIDTERM = TermAssessment.MIDTERM.value, _("Mid-term assessment (ĐĐGgk)")
    FINAL = TermAssessment.FINAL.value, _("End-of-term assessment (ĐĐGck)")
    COMMENT = "comment", _("Subject teacher's comment")
    REASSESSMENT = "reassess", _("Summer re-assessment")
    LEVEL = "level", _("Primary level (HTT/HT/CHT)")
    TEST = "test", _("Primary periodic test")
    CONDUCT = "conduct", _("Conduct (rèn luyện)")
    CONDUCT_REASSESSED = "conduct_re", _("Conduct after summer training")
    ABSENT_EXCUSED = "abs_ok", _("Absences, excused (sessions)")
    ABSENT_UNEXCUSED = "abs_no", _("Absences, unexcused (sessions)")
    HOMEROOM_COMMENT = "hr_comment", _("Homeroom teacher's comment")
    QUALITY = "quality", _("Quality (phẩm chất)")
    COMPETENCY = "competency", _("Competency (năng lực)")
    RECOGNISED = "recognised", _("Recognised by the class (primary award)")


HOMEROOM_KINDS = frozenset(
    {
        Kind.CONDUCT,
        Kind.CONDUCT_REASSESSED,
        Kind.ABSENT_EXCUSED,
        Kind.ABSENT_UNEXCUSED,
        Kind.HOMEROOM_COMMENT,
        Kind.QUALITY,
        Kind.COMPETENCY,
        Kind.RECOGNISED,
    }
)
YEAR_TERM = 0  # term number of year-level cells (re-assessment, conduct after training, …)


class MarkQuerySet(models.QuerySet):
    def for_class_subject(self, *, class_group, subject, term: int | None = None) -> MarkQuerySet:
        students = class_group.enrollments.values("student_id")
        qs = self.filter(year=class_group.year_id, subject=subject, student__in=students)
        return qs if term is None else qs.filter(term=term)

    def for_class_homeroom(self, *, class_group, term: int | None = None) -> MarkQuerySet:
        students = class_group.enrollments.values("student_id")
        qs = self.filter(year=class_group.year_id, subject=None, student__in=students)
        return qs if term is None else qs.filter(term=term)


class Mark(models.Model):
    """One cell: student × year × term × subject (none for homeroom items) × kind × slot.

    `value` is the canonical text of the cell ("7.5", "D", "HTT", a comment; "" = empty).
    `version` increases with every change: a save based on an older version is a conflict.
    """

    school = models.ForeignKey("schools.School", on_delete=models.PROTECT, related_name="+")
    year = models.ForeignKey("schools.SchoolYear", on_delete=models.PROTECT, related_name="+")
    term = models.PositiveSmallIntegerField()
    student = models.ForeignKey("schools.Student", on_delete=models.PROTECT, related_name="marks")
    subject = models.ForeignKey(
        "schools.Subject", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    slot = models.CharField(max_length=40, blank=True, default="")
    value = models.TextField(blank=True, default="")
    version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = MarkQuerySet.as_manager()

    class Meta:
        verbose_name = _("mark")
        verbose_name_plural = _("marks")
        constraints = [
            models.UniqueConstraint(
                fields=["student", "year", "term", "subject", "kind", "slot"],
                condition=models.Q(subject__isnull=False),
                name="mark_unique_subject_cell",
            ),
            models.UniqueConstraint(
                fields=["student", "year", "term", "kind", "slot"],
                condition=models.Q(subject__isnull=True),
                name="mark_unique_homeroom_cell",
            ),
        ]
        indexes = [models.Index(fields=["year", "subject", "term"])]

    def __str__(self) -> str:
        return (
            f"{self.student_id}/{self.subject_id}/{self.term}/{self.kind}{self.slot}={self.value}"
        )


class EventSource(models.TextChoices):
    GRID = "grid", _("Gradebook grid")
    ROW_FORM = "row_form", _("Row form")
    IMPORT = "import", _("Excel import")
    CORRECTION = "correction", _("Approved correction")
    SEED = "seed", _("Demo data")
    SYSTEM = "system", _("System")
    #: Carried from the student's previous school with a transfer package (the reason names
    #: the school and the package's SHA-256; gradebook/transfers.py).
    TRANSFER = "transfer", _("Transfer from another school")


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("The ledger is append-only: events are never updated.")

    def delete(self):
        raise TypeError("The ledger is append-only: events are never deleted.")

    def bulk_update(self, *args, **kwargs):
        raise TypeError("The ledger is append-only: events are never updated.")


class MarkEvent(models.Model):
    """One change to one cell, chained by SHA-256 to the previous event of the same school.

    Never updated or deleted: the model, its manager and (in the database) triggers refuse it.
    `cell` is the SHA-256 of what the cell is (school, year, student, subject, term, kind,
    slot; `gradebook.ledger.cell_digest`) and is part of the event's hash, so a mark moved to
    another student or column behind the ledger no longer matches its events. Events written
    before December 2026 have it empty and their hash does not cover the cell.
    """

    school = models.ForeignKey("schools.School", on_delete=models.PROTECT, related_name="+")
    seq = models.PositiveBigIntegerField()
    mark = models.ForeignKey(Mark, on_delete=models.PROTECT, related_name="events")
    cell = models.CharField(max_length=64, blank=True, default="")
    old_value = models.TextField(blank=True)
    new_value = models.TextField(blank=True)
    version = models.PositiveIntegerField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField()
    reason = models.TextField(blank=True)
    source = models.CharField(max_length=12, choices=EventSource.choices)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("ledger event")
        verbose_name_plural = _("ledger events")
        ordering = ["school", "seq"]
        constraints = [models.UniqueConstraint(fields=["school", "seq"], name="event_seq_unique")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.old_value!r}→{self.new_value!r}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise TypeError("The ledger is append-only: events are never updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("The ledger is append-only: events are never deleted.")


class LedgerHead(models.Model):
    """The last event of a school's chain. Locked (SELECT … FOR UPDATE) by every append, so
    that events of one school are numbered and chained one after the other."""

    school = models.OneToOneField(
        "schools.School", on_delete=models.PROTECT, primary_key=True, related_name="+"
    )
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"{self.school_id}#{self.seq}"


class CheckpointReason(models.TextChoices):
    LOCK = "lock", _("A gradebook was submitted or locked")
    DAILY = "daily", _("Daily checkpoint")
    PACKAGE = "package", _("A transcript package was exported")
    MANUAL = "manual", _("Made by an operator")


class LedgerCheckpoint(models.Model):
    """A signed statement of a school's chain head: "event #seq of school S has hash H".

    Signed with the server's checkpoint key (Ed25519, a file outside the database:
    settings.LEDGER_CHECKPOINT_KEY_FILE), so that someone who can write the database but not
    read that file cannot rewrite the chain behind a checkpoint without `verify_ledger`
    noticing. Checkpoints of a school are numbered and chained (`previous`: the SHA-256 of the
    previous checkpoint's statement), so a deleted one leaves a gap. Append-only, like the
    events (gradebook/checkpoints.py)."""

    school = models.ForeignKey("schools.School", on_delete=models.PROTECT, related_name="+")
    number = models.PositiveIntegerField()
    seq = models.PositiveBigIntegerField()
    hash = models.CharField(max_length=64)
    at = models.DateTimeField()
    reason = models.CharField(max_length=10, choices=CheckpointReason.choices)
    previous = models.CharField(max_length=64)
    key_id = models.CharField(max_length=16)
    signature = models.CharField(max_length=100)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("ledger checkpoint")
        verbose_name_plural = _("ledger checkpoints")
        ordering = ["school", "number"]
        constraints = [
            models.UniqueConstraint(fields=["school", "number"], name="checkpoint_number_unique")
        ]

    def __str__(self) -> str:
        return f"{self.school_id} checkpoint {self.number} at #{self.seq}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise TypeError("Ledger checkpoints are never updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Ledger checkpoints are never deleted.")


SCHOOL_TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")
"""A lock date takes effect at midnight, Vietnamese time, whatever the server's zone."""


class LockKind(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted by the teacher")
    LOCKED = "locked", _("Locked by the school leadership")


@dataclass(frozen=True)
class CellScope:
    """Where a cell is, as far as locks go: a term of a class's subject book (`subject_id`
    None: its homeroom book) in a school year.

    The covering-lock rule, defined here once: a lock covers the cell when it is of the cell's
    year and each of its class, subject and term (`ALL_OR_EQUAL`) is either empty — all
    classes, all subjects, all terms — or the cell's; it is in force from `starts_at` until
    released (`LockQuerySet.active`). `LockQuerySet.covering`, the lock panel, a book's state
    (gradebook/completeness.py) and the hand-written statements of a save (gradebook/hot.py)
    derive their conditions from it."""

    year_id: int
    class_group_id: int | None
    subject_id: int | None
    term: int | None

    ALL_OR_EQUAL: ClassVar[tuple[str, ...]] = ("class_group_id", "subject_id", "term")

    def locks(self) -> models.Q:
        """The locks whose scope covers this cell, in force or not."""
        covers = models.Q(year_id=self.year_id)
        for name in self.ALL_OR_EQUAL:
            either = models.Q(**{f"{name}__isnull": True})
            if (value := getattr(self, name)) is not None:
                either |= models.Q(**{name: value})
            covers &= either
        return covers

    def covers(self, lock: Lock) -> bool:
        """Whether the scope of this lock, already read, covers the cell, in force or not (the
        condition of `locks`, asked of one lock)."""
        return lock.year_id == self.year_id and all(
            getattr(lock, name) in (None, getattr(self, name)) for name in self.ALL_OR_EQUAL
        )


class LockQuerySet(models.QuerySet):
    def active(self, *, at=None) -> LockQuerySet:
        return self.filter(released_at__isnull=True, starts_at__lte=at or timezone.now())

    def covering(
        self, *, year_id: int, term: int | None, class_group_id: int | None, subject_id: int | None
    ):
        """Active locks that cover a cell of this class, subject and term (the rule:
        `CellScope`). A lock without class, subject or term covers all of them."""
        cell = CellScope(
            year_id=year_id, class_group_id=class_group_id, subject_id=subject_id, term=term
        )
        return self.active().filter(cell.locks())


class Lock(models.Model):
    """A gradebook lock: a teacher's submission of a class × subject × term, or a lock set by
    the principal on a class, a subject, a term, or the whole school from a date."""

    school = models.ForeignKey("schools.School", on_delete=models.CASCADE, related_name="+")
    year = models.ForeignKey("schools.SchoolYear", on_delete=models.CASCADE, related_name="+")
    term = models.PositiveSmallIntegerField(null=True, blank=True)
    class_group = models.ForeignKey(
        "schools.ClassGroup", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    subject = models.ForeignKey(
        "schools.Subject", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=10, choices=LockKind.choices)
    reason = models.TextField(blank=True)
    starts_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    release_reason = models.TextField(blank=True)

    objects = LockQuerySet.as_manager()

    class Meta:
        verbose_name = _("lock")
        verbose_name_plural = _("locks")

    def __str__(self) -> str:
        return f"{self.kind} {self.class_group_id}/{self.subject_id}/{self.term}"


class CorrectionStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    APPROVED = "approved", _("Approved and applied")
    REJECTED = "rejected", _("Rejected")


class CorrectionRequest(models.Model):
    """A teacher's request to change a locked cell; the principal approves or rejects it."""

    school = models.ForeignKey("schools.School", on_delete=models.CASCADE, related_name="+")
    mark = models.ForeignKey(Mark, on_delete=models.PROTECT, related_name="corrections")
    class_group = models.ForeignKey(
        "schools.ClassGroup", on_delete=models.CASCADE, related_name="+"
    )
    old_value = models.TextField(blank=True)
    new_value = models.TextField(blank=True)
    reason = models.TextField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(
        max_length=10, choices=CorrectionStatus.choices, default=CorrectionStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    event = models.ForeignKey(
        MarkEvent, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("correction request")
        verbose_name_plural = _("correction requests")
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"{self.mark_id}: {self.old_value!r}→{self.new_value!r} ({self.status})"


class ExemptionState(models.TextChoices):
    REQUESTED = "requested", _("Waiting for the principal")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class ExemptionScope(models.TextChoices):
    """A whole subject (its cells become exempt) or a part of its content (miễn một phần: the
    student is still assessed, on what they study; docs/gradebook.md#exemptions)."""

    WHOLE = "whole", _("The whole subject")
    PARTIAL = "partial", _("Part of the subject")


class ExemptionQuerySet(models.QuerySet):
    def approved_cells(
        self, *, year_id: int, student_ids, subject_id: int | None = None
    ) -> set[tuple[int, int, int]]:
        """(student id, term 1 or 2, subject id) of every approved exemption of these students
        (ids, or a query of ids) in the year (of one subject if given): one query."""
        rows = self.filter(
            year_id=year_id, student_id__in=student_ids, state=ExemptionState.APPROVED,
            scope=ExemptionScope.WHOLE,
        )  # fmt: skip
        if subject_id is not None:
            rows = rows.filter(subject_id=subject_id)
        return {
            (student, number, subject)
            for student, subject, term in rows.values_list("student_id", "subject_id", "term")
            for number in ((1, 2) if term == YEAR_TERM else (term,))
        }

    def covering(self, *, year_id: int, student_id: int, subject_id: int, term: int):
        """The approved exemptions that cover this subject's cells of that term."""
        return self.filter(
            year_id=year_id, student_id=student_id, subject_id=subject_id,
            term__in=(term, YEAR_TERM), state=ExemptionState.APPROVED,
            scope=ExemptionScope.WHOLE,
        )  # fmt: skip


class Exemption(models.Model):
    """A student exempted from a subject (miễn học) in one term or the whole year
    (`term` = YEAR_TERM), wholly or in part (`scope`, `part`), asked for by the homeroom teacher
    or the admin with the reason and the document it rests on, approved or rejected by the
    principal, who may withdraw an approved one while the book is open
    (docs/gradebook.md#exemptions). Only an approved whole exemption takes the cells away: the
    grid shows them as exempt and refuses them, completeness does not ask for them, the results
    leave the subject out, the transcript prints "Miễn". A partial one is shown beside the
    student's cells, which stay due."""

    school = models.ForeignKey("schools.School", on_delete=models.CASCADE, related_name="+")
    year = models.ForeignKey("schools.SchoolYear", on_delete=models.PROTECT, related_name="+")
    class_group = models.ForeignKey(
        "schools.ClassGroup", on_delete=models.CASCADE, related_name="+"
    )
    student = models.ForeignKey(
        "schools.Student", on_delete=models.PROTECT, related_name="exemptions"
    )
    subject = models.ForeignKey("schools.Subject", on_delete=models.PROTECT, related_name="+")
    term = models.PositiveSmallIntegerField()  # 1, 2 or YEAR_TERM (both terms)
    scope = models.CharField(
        max_length=8, choices=ExemptionScope.choices, default=ExemptionScope.WHOLE
    )
    part = models.CharField(max_length=200, blank=True)  # the part, for a partial exemption
    reason = models.TextField()
    document = models.CharField(max_length=200)
    state = models.CharField(
        max_length=10, choices=ExemptionState.choices, default=ExemptionState.REQUESTED
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    withdrawn_reason = models.TextField(blank=True)

    objects = ExemptionQuerySet.as_manager()

    class Meta:
        verbose_name = _("exemption")
        verbose_name_plural = _("exemptions")
        ordering = ["-requested_at", "-pk"]
        indexes = [models.Index(fields=["year", "student", "state"])]

    def __str__(self) -> str:
        return f"{self.student_id}/{self.subject_id}/{self.term} ({self.state})"

    def terms(self) -> tuple[int, ...]:
        """The terms (1, 2) this exemption covers."""
        return (1, 2) if self.term == YEAR_TERM else (self.term,)


class ReassessmentEntry(models.TextChoices):
    """Who enters a student's summer re-assessment results (docs/gradebook.md#summer)."""

    SUBJECT_TEACHER = "subject_teacher", _("the subject teacher of the class")
    HOMEROOM_TEACHER = "homeroom_teacher", _("the homeroom teacher")


class GradebookSettings(models.Model):
    """A school's gradebook settings, including the regulation's named interpretations."""

    school = models.OneToOneField(
        "schools.School",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="gradebook_settings",
    )
    comment_max_length = models.PositiveIntegerField(_("comment length limit"), default=300)
    adjustment = models.CharField(
        _("learning level adjustment (Art. 9 cl. 3)"),
        max_length=30,
        choices=[
            (AdjustmentPolicy.ANY_SUBJECT.value, _("any one subject, scored or comment-assessed")),
            (AdjustmentPolicy.SCORED_SUBJECTS_ONLY.value, _("only a score-assessed subject")),
        ],
        default=RulesOptions().adjustment.value,
    )
    few_scored_subjects = models.CharField(
        _("fewer than 6 scored subjects"),
        max_length=30,
        choices=[
            (FewSubjectsPolicy.ALL_MUST_MEET.value, _("all of them must meet the condition")),
            (FewSubjectsPolicy.LITERAL_SIX.value, _("six are always required")),
        ],
        default=RulesOptions().few_scored_subjects.value,
    )
    reassessment_entered_by = models.CharField(
        _("summer re-assessment results entered by"),
        max_length=20,
        choices=ReassessmentEntry.choices,
        default=ReassessmentEntry.SUBJECT_TEACHER,
    )

    class Meta:
        verbose_name = _("gradebook settings")
        verbose_name_plural = _("gradebook settings")

    def __str__(self) -> str:
        return str(self.school)

    @property
    def rules_options(self) -> RulesOptions:
        return RulesOptions(
            adjustment=AdjustmentPolicy(self.adjustment),
            few_scored_subjects=FewSubjectsPolicy(self.few_scored_subjects),
        )

    def clean(self) -> None:
        if self.comment_max_length < 20:
            raise ValidationError({"comment_max_length": _("At least 20 characters.")})


class CommentPhrase(models.Model):
    """A comment-bank phrase, by subject (none = any) and level, with a {name} placeholder."""

    school = models.ForeignKey("schools.School", on_delete=models.CASCADE, related_name="+")
    subject = models.ForeignKey(
        "schools.Subject", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    level = models.CharField(_("level"), max_length=10, blank=True)
    text = models.CharField(_("phrase"), max_length=300)

    class Meta:
        verbose_name = _("comment phrase")
        verbose_name_plural = _("comment bank")
        ordering = ["subject", "level", "text"]

    def __str__(self) -> str:
        return self.text
