"""The transcript's state machine. Every transition locks the transcript row, checks the actor's
role and the current state, and records a TranscriptEvent, in one transaction; anything else is
refused with a translated message. Signatures are recorded once per role and version, so
re-running a batch never double-signs."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from gradebook.results import student_year_results
from gradebook.services import Locked
from gradebook.signals import mark_changing
from schools.access import is_leader, is_principal
from schools.models import ClassGroup, Enrollment, SchoolYear, Student
from transcripts import hot, notices
from transcripts.models import (
    SignerRole,
    State,
    Transcript,
    TranscriptEvent,
    TranscriptSignature,
    TranscriptVersion,
)
from transcripts.snapshot import snapshot_digest, snapshot_of_results


class TranscriptRefused(Exception):
    """A transition the workflow refuses; `message` is translated for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


#: action → (states it may start from, state it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "confirm": (frozenset({State.DRAFT}), State.READY),
    SignerRole.HOMEROOM: (frozenset({State.READY}), State.SIGNED_HOMEROOM),
    SignerRole.PRINCIPAL: (frozenset({State.SIGNED_HOMEROOM}), State.SIGNED_PRINCIPAL),
    SignerRole.SEAL: (frozenset({State.SIGNED_PRINCIPAL}), State.FINAL),
    "return": (
        frozenset({State.READY, State.SIGNED_HOMEROOM, State.SIGNED_PRINCIPAL}),
        State.DRAFT,
    ),
    "reopen": (frozenset({State.FINAL}), State.DRAFT),
}


def transcript_for(*, student: Student, class_group: ClassGroup) -> Transcript:
    transcript, _created = Transcript.objects.get_or_create(
        student=student,
        year_id=class_group.year_id,
        defaults={"school_id": class_group.year.school_id, "class_group": class_group},
    )
    return transcript


def _locked(transcript: Transcript, action: str, *, related: tuple[str, ...] = ()) -> Transcript:
    """The transcript row locked for this transaction, checked against the action's states.
    ``related`` rows are read in the same query (and not locked)."""
    rows = Transcript.objects.select_for_update(of=("self",)).select_related(*related)
    locked = rows.get(pk=transcript.pk)
    sources, _target = TRANSITIONS[action]
    if locked.state not in sources:
        raise TranscriptRefused(
            _("This transcript is “%(state)s”: that step is not possible now.")
            % {"state": locked.get_state_display()}
        )
    return locked


def _move(transcript: Transcript, action: str, *, actor: User, comment: str = "") -> None:
    target = TRANSITIONS[action][1]
    TranscriptEvent.objects.create(
        transcript=transcript,
        from_state=transcript.state,
        to_state=target,
        actor=actor,
        comment=comment,
    )
    transcript.state = target
    transcript.save(update_fields=["state", "returned_comment", "reopened_reason", "updated_at"])


@transaction.atomic
def confirm_ready(*, actor: User, transcript: Transcript) -> TranscriptVersion:
    """The homeroom teacher confirms the data: a version is snapshotted (a new one only if the
    data changed since the last unsigned one)."""
    transcript = _locked(transcript, "confirm", related=("class_group", "student", "year__school"))
    if transcript.class_group.homeroom_teacher_id != actor.pk:
        raise TranscriptRefused(_("Only the class's homeroom teacher confirms its transcripts."))
    results = student_year_results(transcript.student, transcript.year)
    missing = transcript_blockers(transcript, results.results)
    if missing:
        raise TranscriptRefused(_("Not ready: %(missing)s.") % {"missing": "; ".join(missing)})
    snapshot = snapshot_of_results(results)
    digest = snapshot_digest(snapshot)
    current = transcript.current_version
    if current is None or current.snapshot_sha256 != digest or current.signatures.exists():
        number = (transcript.versions.order_by("-number").values_list("number", flat=True)
                  .first() or 0) + 1  # fmt: skip
        if current is not None:
            _supersede(current, _("Replaced by version %(number)s.") % {"number": number})
        current = TranscriptVersion.objects.create(
            transcript=transcript,
            number=number,
            snapshot=snapshot,
            snapshot_sha256=digest,
            created_by=actor,
        )
    transcript.returned_comment = ""
    _move(transcript, "confirm", actor=actor)
    return current


def incomplete_reasons(transcript: Transcript) -> list[str]:
    """What still blocks confirming a transcript (empty when it can be confirmed)."""
    results = student_year_results(transcript.student, transcript.year).results
    return transcript_blockers(transcript, results)


def transcript_blockers(transcript: Transcript, results: Any) -> list[str]:
    """:func:`blockers`, or :func:`leaver_blockers` when the student left the transcript's class
    during the year."""
    left_on = (
        Enrollment.objects.filter(
            student_id=transcript.student_id, class_group_id=transcript.class_group_id
        )
        .values_list("left_on", flat=True)
        .first()
    )
    if left_on is None:
        return blockers(results)
    return leaver_blockers(results, term_ends=term_ends(transcript.year), left_on=left_on)


def term_ends(year: SchoolYear) -> dict[int, datetime.date]:
    """Each term's last day (one query)."""
    return dict(year.terms.values_list("number", "ends_on"))


def leaver_blockers(
    results: Any, *, term_ends: dict[int, datetime.date], left_on: datetime.date
) -> list[str]:
    """A student who left the class during the year (transferred out: ``Enrollment.left_on``)
    has a transcript of the year so far: only the terms that ended before they left must be
    complete (docs/exports.md, "Transfers"). Left after the year's last term: :func:`blockers`;
    left during term I: nothing is required."""
    ended = {number for number, ends_on in term_ends.items() if ends_on < left_on}
    if 2 in ended:
        return blockers(results)
    if 1 not in ended:
        return []
    if hasattr(results, "year_result"):  # primary: the end-of-term-I levels
        return [
            _("%(subject)s has no term I result") % {"subject": subject.subject.name}
            for subject in results.subjects
            if subject.term1_level is None
        ]
    reasons = [
        _("%(subject)s has no term I result") % {"subject": subject.subject.name}
        for subject in results.subjects
        if subject.term1.value is None and not subject.term1.exempt
    ]
    if results.conduct.term1 is None:
        reasons.append(_("the term I conduct is not set"))
    return reasons


def blockers(results: Any) -> list[str]:
    """What in one student's year results (gradebook.results, primary or secondary) is still
    incomplete; the class screen passes each row of class_results here."""
    if hasattr(results, "year_result"):  # primary
        return [] if results.year_result is not None else [_("the year result is not complete")]
    reasons = [
        _("%(subject)s has no year result") % {"subject": subject.subject.name}
        for subject in results.subjects
        if not subject.complete
    ]
    if results.conduct.year is None:
        reasons.append(_("the year conduct is not set"))
    return reasons


def _may_sign(actor: User, transcript: Transcript, role: str) -> bool:
    """Whether signing as ``role`` is the actor's; only that role's check is run (each of the
    leadership checks is a query)."""
    if role == SignerRole.HOMEROOM:
        return transcript.class_group.homeroom_teacher_id == actor.pk
    if role == SignerRole.PRINCIPAL:
        return is_leader(actor, transcript.school_id)
    if role == SignerRole.SEAL:
        return is_principal(actor, transcript.school_id)
    raise ValueError(f"Unknown signer role {role!r}")


def _supersede(version: TranscriptVersion, reason: str) -> None:
    version.superseded_at = timezone.now()
    version.superseded_reason = reason
    version.save(update_fields=["superseded_at", "superseded_reason"])


@transaction.atomic
def record_signature(
    *,
    actor: User,
    transcript: Transcript,
    role: str,
    certificate_subject: str = "",
    certificate_serial: str = "",
) -> TranscriptSignature:
    """Record a signature of `role` on the current version and advance the state. The role must
    be the actor's: the class's homeroom teacher, a principal or vice principal, and (for the
    school seal) the principal."""
    transcript = _locked(transcript, role, related=("class_group",))
    if not _may_sign(actor, transcript, role):
        raise TranscriptRefused(_("You may not sign this transcript in that role."))
    version = transcript.current_version
    assert version is not None  # a transcript is signed once confirmed: it has a version
    signature = TranscriptSignature.objects.create(
        version=version,
        role=role,
        signed_by=actor,
        certificate_subject=certificate_subject,
        certificate_serial=certificate_serial,
    )
    _move(transcript, role, actor=actor)
    return signature


@transaction.atomic
def return_to_homeroom(*, actor: User, transcript: Transcript, comment: str) -> None:
    """The principal sends a transcript back with a comment; the unsigned data can change again."""
    transcript = _locked(transcript, "return", related=("class_group", "student", "school"))
    if not is_leader(actor, transcript.school_id):
        raise TranscriptRefused(_("Only the school's leadership returns transcripts."))
    if not comment.strip():
        raise TranscriptRefused(_("Say what the homeroom teacher should check."))
    transcript.returned_comment = comment.strip()
    _move(transcript, "return", actor=actor, comment=comment.strip())
    notices.transcript_moved(transcript, actor=actor, reopened=False, comment=comment.strip())


@transaction.atomic
def reopen(*, actor: User, transcript: Transcript, reason: str) -> None:
    """The principal reopens a final transcript with a reason: its version is superseded (and
    stays verifiable as such); the next version goes through signing again."""
    transcript = _locked(transcript, "reopen", related=("class_group", "student", "school"))
    if not is_principal(actor, transcript.school_id):
        raise TranscriptRefused(_("Only the principal reopens a final transcript."))
    if not reason.strip():
        raise TranscriptRefused(_("A reason is required to reopen a final transcript."))
    version = transcript.current_version
    assert version is not None  # a final transcript has its (signed) version
    _supersede(version, reason.strip())
    transcript.reopened_reason = reason.strip()
    _move(transcript, "reopen", actor=actor, comment=reason.strip())
    notices.transcript_moved(transcript, actor=actor, reopened=True, comment=reason.strip())


@receiver(mark_changing)
def refuse_changes_behind_a_transcript(sender, *, student, year_id, **kwargs) -> None:
    """Once confirmed, a transcript's data changes only after it is returned or reopened.
    (Every mark save asks: a hand-written statement, transcripts/hot.py.)"""
    state = hot.transcript_state_beyond_draft(student_id=student.pk, year_id=year_id)
    if state is not None:
        raise Locked(
            _(
                "The transcript of %(name)s for this year is “%(state)s”; its data can change "
                "only after the principal returns or reopens it."
            )
            % {"name": student.full_name, "state": State(state).label}
        )
