"""The summer and the transcript (docs/gradebook.md#summer): a final transcript refuses the
re-assessment until the principal reopens it with a reason; the next version prints the
re-assessment column and the decision taken after it."""

import pytest
from django.utils import translation

from gradebook.services import Locked
from gradebook.summer import save_summer_mark
from schools.models import TeachingAssignment
from tests.gradebook.marks import REASSESSMENT_CASE, homeroom_marks, year_of
from tests.transcripts.test_workflow import to_final
from transcripts.render import transcript_html
from transcripts.snapshot import build_snapshot
from transcripts.workflow import reopen, transcript_for


@pytest.fixture
def pupil(class_a, admin):
    pupil = class_a.enrollments.order_by("roll_number").first().student
    year_of(class_a, pupil, REASSESSMENT_CASE)  # TOAN 4.6 and NN1 3.2: re-assessment
    homeroom_marks(pupil, conduct=("D", "D"))
    english = class_a.year.school.subjects.get(code="NN1")
    TeachingAssignment.objects.create(teacher=admin, class_group=class_a, subject=english)
    return pupil


def reassess(actor, class_a, pupil, code, text):
    subject = class_a.year.school.subjects.get(code=code)
    return save_summer_mark(actor=actor, class_group=class_a, student=pupil,
                            subject_id=subject.pk, text=text, base_version=None)  # fmt: skip


def test_a_final_transcript_takes_the_summer_only_after_a_reasoned_reopen(
    class_a, pupil, teacher, admin, homeroom, principal
):
    transcript = transcript_for(student=pupil, class_group=class_a)
    to_final(transcript, homeroom, principal)
    with translation.override("en"), pytest.raises(Locked, match="reopens it"):
        reassess(teacher, class_a, pupil, "TOAN", "5.5")
    reopen(actor=principal, transcript=transcript, reason="Kết quả kiểm tra lại trong hè")
    reassess(teacher, class_a, pupil, "TOAN", "5.5")
    reassess(admin, class_a, pupil, "NN1", "4")
    snapshot = build_snapshot(pupil, class_a.year)
    maths = next(row for row in snapshot["subjects"] if row["code"] == "TOAN")
    assert (maths["year"]["display"], maths["reassessment"]["display"]) == ("4,6", "5,5")
    assert snapshot["promotion"]["promoted"] and snapshot["promotion"]["display"] == "Được lên lớp"
    html = transcript_html(snapshot, verification_code="X", verification_url="https://v/X")
    assert "KT, ĐG lại" in html and "5,5" in html and "Được lên lớp" in html
