"""The homeroom teacher's transcript screen for a class: every student with the transcript's
state and what still blocks it, then confirm (snapshot the data) and sign, as background jobs.
The leadership sees the same screen read-only."""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from accounts.http import AuthenticatedRequest
from gradebook.results import class_results
from schools.access import get_homeroom_book, get_school
from schools.models import ClassGroup, Enrollment
from transcripts.models import JobStep, State, Transcript, TranscriptJob
from transcripts.views.review import confirm_and_start, eligible, state_badge
from transcripts.workflow import blockers, leaver_blockers, term_ends, transcript_for

CLASS_STEP_SETS: dict[str, list[str]] = {
    "confirm": [JobStep.CONFIRM],
    "homeroom": [JobStep.HOMEROOM],
    "confirm_homeroom": [JobStep.CONFIRM, JobStep.HOMEROOM],
}


@dataclasses.dataclass(frozen=True)
class _Leavers:
    """The class's students who left the school during the year (transferred out), by student
    id: their transcript holds the year so far (workflow.leaver_blockers). Those who moved to
    another class of the year (``moved``) are that class's."""

    days: dict[int, datetime.date]
    moved: frozenset[int]
    term_ends: dict[int, datetime.date]

    def blockers(self, row: Any) -> list[str]:
        left_on = self.days.get(row.student.pk)
        if left_on is None:
            return blockers(row)
        return leaver_blockers(row, term_ends=self.term_ends, left_on=left_on)


def _left(class_group: ClassGroup) -> _Leavers:
    left = dict(
        class_group.enrollments.filter(left_on__isnull=False).values_list("student_id", "left_on")
    )
    moved = frozenset(
        Enrollment.objects.filter(
            class_group__year_id=class_group.year_id, left_on__isnull=True, student_id__in=left
        ).values_list("student_id", flat=True)
        if left
        else ()
    )
    days = {student: day for student, day in left.items() if student not in moved}
    return _Leavers(days, moved, term_ends(class_group.year) if days else {})


@require_safe
def class_transcripts(request: AuthenticatedRequest, code: str, class_pk: int) -> HttpResponse:
    access = get_school(request, code)
    class_group = get_homeroom_book(access, class_pk)
    results = class_results(class_group, include_left=True)
    left = _left(class_group)
    transcripts = {
        t.student_id: t
        for t in Transcript.objects.filter(class_group=class_group).select_related("student")
    }
    rows: list[dict[str, Any]] = []
    for row in results.students:
        if row.student.pk in left.moved:
            continue
        transcript = transcripts.get(row.student.pk)
        state = transcript.state if transcript else State.DRAFT
        rows.append(
            {
                "student": row.student,
                "roll_number": row.roll_number,
                "transcript": transcript,
                "badge": state_badge(transcript) if transcript else state_badge(Transcript()),
                "blockers": left.blockers(row) if state == State.DRAFT else [],
                "left_on": left.days.get(row.student.pk),
                "returned": transcript.returned_comment if transcript else "",
                "reopened": transcript.reopened_reason
                if transcript and state == State.DRAFT
                else "",
            }
        )
    blocked = sum(1 for row in rows if row["blockers"])
    counts = {value: 0 for value in State.values}
    for entry in rows:
        counts[entry["transcript"].state if entry["transcript"] else State.DRAFT] += 1
    jobs = TranscriptJob.objects.filter(class_group=class_group).select_related("created_by")[:5]
    return render(
        request,
        "transcripts/class_transcripts.html",
        {
            "access": access,
            "class_group": class_group,
            "rows": rows,
            "blocked": blocked,
            "confirmable": counts[State.DRAFT] - blocked,
            "signable": counts[State.READY],
            "states": [(label, counts[value]) for value, label in State.choices],
            "is_homeroom": class_group.homeroom_teacher_id == request.user.pk,
            "jobs": jobs,
        },
    )


@require_POST
def class_job(request: AuthenticatedRequest, code: str, class_pk: int) -> HttpResponse:
    """Confirm and/or sign the class's transcripts as its homeroom teacher (confirmation page
    first for a signature; confirming alone starts at once)."""
    access = get_school(request, code)
    class_group = get_homeroom_book(access, class_pk, write=True)
    steps_key = request.POST.get("steps", "")
    steps = CLASS_STEP_SETS.get(steps_key)
    if steps is None:
        raise Http404
    left = _left(class_group)
    everything = Transcript.objects.filter(
        class_group=class_group, student__enrollments__class_group=class_group
    ).exclude(student_id__in=left.moved)
    chosen = eligible(everything, steps)
    if JobStep.CONFIRM in steps:
        rows = class_results(class_group, include_left=True).students
        complete = [
            row.student
            for row in rows
            if row.student.pk not in left.moved and not left.blockers(row)
        ]
        with transaction.atomic():  # one transcript row per complete student, created once
            for student in complete:
                transcript_for(student=student, class_group=class_group)
        chosen = chosen.filter(student__in=complete)
    return confirm_and_start(
        request,
        access,
        year=class_group.year,
        steps=steps,
        steps_key=steps_key,
        selected_count=everything.count(),
        transcripts=chosen,
        action=reverse("hocba:class_job", args=[access.school.code, class_group.pk]),
        back=reverse("hocba:class", args=[access.school.code, class_group.pk]),
        class_group=class_group,
        start_now=steps == [JobStep.CONFIRM],
    )
