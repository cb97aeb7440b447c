"""Which transcript versions a package holds, and who is left out.

- **full**: the current final (sealed) version of every transcript of the school year;
- **incremental**: those final versions not yet in an accepted upload;
- **single**: one student's current final version of the year.

Full and incremental packages also withdraw (list, without files) every version that an
accepted upload carried and that has since been superseded, until an accepted upload has
withdrawn it. The students of the scope are those enrolled in a class of the year (not left),
plus anyone with a final transcript of the year; each of them without a current final version
is *not final*, which blocks an export unless the school chooses to send only the final ones.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, TypedDict

from django.db.models import Count, Exists, OuterRef, QuerySet
from django.utils.translation import gettext as _

from schools.models import Enrollment, School, SchoolYear, Student
from transcripts.models import (
    EntryStatus,
    PackageEntry,
    PackageKind,
    SignerRole,
    State,
    Transcript,
    TranscriptSignature,
    TranscriptVersion,
    UploadStatus,
)


class SignatureCount(TypedDict):
    signature_count: int


if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    #: A current final version annotated with its number of recorded signatures.
    FinalVersion = WithAnnotations[TranscriptVersion, SignatureCount]


class _VersionId(TypedDict):
    version_id: int


@dataclasses.dataclass(frozen=True)
class NotFinal:
    """A student of the scope whose transcript is not final (yet)."""

    student: str
    student_code: str
    class_name: str
    state: str  # translated
    transcript_id: int | None


@dataclasses.dataclass
class PackageScope:
    students: int
    #: Current final versions, by student code, with transcript, student, class and
    #: ``signature_count``.
    finals: list[FinalVersion]
    #: Superseded versions to withdraw, by student code.
    withdrawals: list[TranscriptVersion]
    not_final: list[NotFinal]

    @property
    def is_empty(self) -> bool:
        return not self.finals and not self.withdrawals


def _versions(school: School, year: SchoolYear) -> QuerySet[TranscriptVersion]:
    return TranscriptVersion.objects.filter(
        transcript__school=school, transcript__year=year
    ).select_related("transcript__student", "transcript__class_group")


def current_finals(
    school: School, year: SchoolYear, student: Student | None = None
) -> QuerySet[FinalVersion]:
    """Each final transcript's current, sealed version."""
    sealed = TranscriptSignature.objects.filter(version=OuterRef("pk"), role=SignerRole.SEAL)
    versions = _versions(school, year).filter(
        Exists(sealed), transcript__state=State.FINAL, superseded_at__isnull=True
    )
    if student is not None:
        versions = versions.filter(transcript__student=student)
    return versions.annotate(signature_count=Count("signatures"))


def _accepted(school: School, year: SchoolYear, status: str) -> QuerySet[PackageEntry, _VersionId]:
    return PackageEntry.objects.filter(
        package__school=school,
        package__year=year,
        package__upload_status=UploadStatus.ACCEPTED,
        status=status,
    ).values("version_id")


def package_scope(
    *, school: School, year: SchoolYear, kind: str, student: Student | None = None
) -> PackageScope:
    """The versions a package of ``kind`` holds now, and the students left out."""
    if kind == PackageKind.SINGLE and student is None:
        raise ValueError("a single package needs a student")
    single = student if kind == PackageKind.SINGLE else None
    finals = current_finals(school, year, single)
    every_final = list(finals)
    if kind == PackageKind.INCREMENTAL:
        sent = set(_accepted(school, year, EntryStatus.FINAL).values_list("version_id", flat=True))
        chosen = [version for version in every_final if version.pk not in sent]
    else:
        chosen = every_final
    withdrawals: list[TranscriptVersion] = []
    if kind != PackageKind.SINGLE:
        withdrawals = list(
            _versions(school, year)
            .filter(pk__in=_accepted(school, year, EntryStatus.FINAL), superseded_at__isnull=False)
            .exclude(pk__in=_accepted(school, year, EntryStatus.WITHDRAWN))
        )
    final_students = {version.transcript.student_id for version in every_final}
    not_final = _not_final(school, year, single, final_students)
    students = final_students | {row.student_id for row in not_final}

    def by_code(version: TranscriptVersion) -> tuple[str, int]:
        return (version.transcript.student.student_code, version.number)

    return PackageScope(
        students=len(students),
        finals=sorted(chosen, key=by_code),
        withdrawals=sorted(withdrawals, key=by_code),
        not_final=[row.not_final for row in not_final],
    )


@dataclasses.dataclass(frozen=True)
class _Left:
    student_id: int
    not_final: NotFinal


def _not_final(
    school: School, year: SchoolYear, student: Student | None, final_students: set[int]
) -> list[_Left]:
    enrolled = Enrollment.objects.filter(
        class_group__year=year, class_group__year__school=school, left_on__isnull=True
    )
    if student is not None:
        enrolled = enrolled.filter(student=student)
    transcripts = {
        student_id: (pk, state)
        for student_id, pk, state in Transcript.objects.filter(
            school=school, year=year
        ).values_list("student_id", "pk", "state")
    }
    rows = enrolled.exclude(student_id__in=final_students).order_by(
        "class_group__grade", "class_group__name", "roll_number"
    )
    left = []
    for student_id, name, code, class_name in rows.values_list(
        "student_id", "student__full_name", "student__student_code", "class_group__name"
    ):
        pk, state = transcripts.get(student_id, (None, None))
        label = State(state).label if state else _("no transcript yet")
        left.append(_Left(student_id, NotFinal(name, code, class_name, str(label), pk)))
    return left
