"""Carrying a transferred student's marks of the year so far into this school's gradebook
(docs/exports.md, "Transfers").

A received single package of a student who left their previous school during the year carries
that school's individual marks of the year (``marks/<student code>.json``,
:mod:`transcripts.packages.marks`), covered by the seal like every member and checked by the
verifier when the package was received. Here the admin carries them into the student's cells
of their class in this school's current year, each through the gradebook's own service
(:func:`gradebook.transfers.carry_marks`), attributed in the ledger to the sending school and
the package's SHA-256. The stored package is read back through the storage and checked
against the SHA-256 that was verified: a file changed since then is refused.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Callable
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils.translation import gettext as _

from gradebook.transfers import CarryReport, TransferredMark, carry_marks
from schools.models import ClassGroup, Enrollment
from transcripts.models import ReceivedPackage
from transcripts.packages import format as fmt
from transcripts.packages.marks import MarksDocument, MarksError, parse_marks

if TYPE_CHECKING:
    from accounts.models import User


class CarryRefused(Exception):
    """Nothing can be carried; ``message`` is translated."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def carries_marks(package: ReceivedPackage) -> bool:
    """Whether the package carried marks of the year so far (recorded when it was received)."""
    return bool((package.report or {}).get("marks"))


def received_marks(package: ReceivedPackage) -> MarksDocument:
    """The marks member of a received package, read from the stored package after checking
    that it is the one the verifier accepted."""
    path = (package.report or {}).get("marks")
    if not path or not package.file:
        raise CarryRefused(_("This package carries no marks of the year."))
    limit = settings.VERIFY_PACKAGE_MAX_BYTES
    with package.file.open("rb") as handle:
        data = handle.read(limit + 1)
    if hashlib.sha256(data).hexdigest() != package.sha256:
        raise CarryRefused(
            _("The stored package is not the one that was verified (its SHA-256 differs).")
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entry = fmt.parse_manifest(archive.read(fmt.MANIFEST)).file(path)
            member = archive.read(path)
        if entry is None or hashlib.sha256(member).hexdigest() != entry.sha256:
            raise MarksError("the member differs from the manifest")
        return parse_marks(member)
    except (KeyError, zipfile.BadZipFile, fmt.ManifestError, MarksError) as exc:
        raise CarryRefused(_("The marks of the year in this package cannot be read.")) from exc


def target_class(package: ReceivedPackage) -> ClassGroup | None:
    """The student's class in this school's current year (not left), if any."""
    enrollment = (
        Enrollment.objects.filter(
            student=package.student,
            class_group__year__school=package.school,
            class_group__year__is_current=True,
            left_on__isnull=True,
        )
        .select_related("class_group__year__school")
        .first()
    )
    return enrollment.class_group if enrollment else None


def _reason(package: ReceivedPackage) -> Callable[[TransferredMark], str]:
    where = _(
        "Carried from %(school)s (school code %(code)s), transfer package SHA-256 %(sha256)s"
    ) % {
        "school": package.source_school_name,
        "code": package.source_school_code,
        "sha256": package.sha256,
    }

    def reason(mark: TransferredMark) -> str:
        if mark.event_seq is None:
            return where
        return where + "; " + _("their ledger event #%(seq)s") % {"seq": mark.event_seq}

    return reason


def carry_received_marks(
    *, actor: User, package: ReceivedPackage, client_ip: str | None = None, apply: bool = True
) -> tuple[ClassGroup, CarryReport]:
    """Carry the package's marks into the student's class of the current year (``apply``
    False: say what carrying would do). :class:`CarryRefused` when there is nothing to carry
    or nowhere to carry it."""
    document = received_marks(package)
    class_group = target_class(package)
    if class_group is None:
        raise CarryRefused(
            _(
                "%(name)s is not in a class of this school's current year: enrol the student "
                "in their class first."
            )
            % {"name": package.student.full_name}
        )
    if document.school_year != class_group.year.name:
        raise CarryRefused(
            _("These marks are of the school year %(theirs)s; this school's year is %(ours)s.")
            % {"theirs": document.school_year, "ours": class_group.year.name}
        )
    if document.grade != class_group.grade:
        raise CarryRefused(
            _("These marks are of grade %(theirs)s; class %(class)s is of grade %(ours)s.")
            % {"theirs": document.grade, "class": class_group.name, "ours": class_group.grade}
        )
    report = carry_marks(
        actor=actor,
        class_group=class_group,
        student=package.student,
        marks=document.marks,
        reason=_reason(package),
        client_ip=client_ip,
        apply=apply,
    )
    return class_group, report
