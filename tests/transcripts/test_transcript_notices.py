"""A transcript returned or reopened tells the class's homeroom teacher, who confirms it again
(issue 17); the subject teachers hear of it only if a book of theirs is unlocked."""

import pytest
from django.urls import reverse

from accounts.models import Notification, NotificationKind
from tests.gradebook.marks import all_scored, homeroom_marks, year_of
from transcripts.workflow import (
    confirm_ready,
    record_signature,
    reopen,
    return_to_homeroom,
    transcript_for,
)

pytestmark = pytest.mark.usefixtures("english")  # tests/conftest.py


@pytest.fixture
def transcript(class_a):
    pupil = class_a.enrollments.order_by("roll_number").first().student
    year_of(class_a, pupil, all_scored("8"))
    homeroom_marks(pupil, conduct=("T", "T"))
    return transcript_for(student=pupil, class_group=class_a)


def test_a_returned_transcript_tells_the_homeroom_teacher_only(transcript, homeroom, principal):
    confirm_ready(actor=homeroom, transcript=transcript)
    return_to_homeroom(actor=principal, transcript=transcript, comment="Kiểm tra lại điểm Toán")
    note = Notification.objects.get()
    assert (note.recipient, note.kind) == (homeroom, NotificationKind.TRANSCRIPT_RETURNED)
    assert note.url == reverse("hocba:detail", args=["SCHOOLA", transcript.pk])
    name = transcript.student.full_name
    assert note.text == f"principal returned the transcript of {name} (6A1): Kiểm tra lại điểm Toán"


def test_a_reopened_transcript_tells_the_homeroom_teacher(transcript, homeroom, principal):
    confirm_ready(actor=homeroom, transcript=transcript)
    for role, actor in [("homeroom", homeroom), ("principal", principal), ("seal", principal)]:
        record_signature(actor=actor, transcript=transcript, role=role)
    reopen(actor=principal, transcript=transcript, reason="Sai ngày sinh")
    note = Notification.objects.get()
    assert (note.recipient, note.kind) == (homeroom, NotificationKind.TRANSCRIPT_REOPENED)
    name = transcript.student.full_name
    assert note.text == f"principal reopened the final transcript of {name} (6A1): Sai ngày sinh"
