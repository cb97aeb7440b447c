"""The review screens: the principal's queue (filters, problems), a transcript's version history
with what changed, the preview, the stored files, return and reopen through the pages."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from gradebook.columns import subject_columns
from gradebook.services import save_mark
from tests.transcripts.conftest import sign_all, stored
from transcripts.diff import snapshot_changes
from transcripts.models import State, Transcript
from transcripts.workflow import confirm_ready, transcript_for

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def final(transcript, homeroom, principal, role_signers):
    confirm_ready(actor=homeroom, transcript=transcript)
    sign_all(transcript, homeroom, principal, role_signers)
    transcript.refresh_from_db()
    assert transcript.state == State.FINAL
    return transcript


def detail_url(transcript) -> str:
    return reverse("hocba:detail", args=[transcript.school.code, transcript.pk])


def test_reopen_through_the_page_keeps_two_versions_and_shows_the_change(
    english,
    final,
    class_a,
    pupil,
    homeroom,
    principal,
    teacher,
):
    english.force_login(principal)
    url = reverse("hocba:reopen", args=[final.school.code, final.pk])
    response = english.post(url, {"comment": ""}, follow=True)
    assert "This field is required" in response.content.decode()
    final.refresh_from_db()
    assert final.state == State.FINAL

    response = english.post(url, {"comment": "Phúc khảo môn Toán"}, follow=True)
    assert "was reopened" in response.content.decode()
    entry = class_a.year.curriculum.get(grade=class_a.grade, subject__code="TOAN")
    end_of_year = subject_columns(entry, 2)[-2]  # the HK II final test
    save_mark(actor=teacher, class_group=class_a, student=pupil, column=end_of_year, text="10",
              base_version=None)  # fmt: skip
    confirm_ready(actor=homeroom, transcript=final)

    page = english.get(detail_url(final)).content.decode()
    assert page.count('class="card mb-2 version-card') == 2
    assert "Version 2" in page and "Version 1" in page
    assert "Superseded" in page and "Phúc khảo môn Toán" in page
    assert "What changed from version 1 to version 2" in page
    first, second = final.versions.order_by("number")
    changes = snapshot_changes(first.snapshot, second.snapshot)
    maths = [c for c in changes if c.where.startswith("Toán › ")]
    assert [c.where for c in maths] == ["Toán › Term II", "Toán › Whole year"]
    assert maths[0].before != maths[0].after
    assert f"<td>{maths[0].before}</td><td><strong>{maths[0].after}</strong></td>" in page
    # The first version's signed files are still served as stored.
    pdf = english.get(reverse("hocba:download", args=[final.school.code, final.pk, 1, "pdf"]))
    assert b"".join(pdf.streaming_content) == stored(first.pdf_file)


def test_return_with_a_comment_shows_on_the_class_screen(
    english,
    transcript,
    class_a,
    homeroom,
    principal,
):
    confirm_ready(actor=homeroom, transcript=transcript)
    english.force_login(principal)
    english.post(
        reverse("hocba:return", args=[transcript.school.code, transcript.pk]),
        {"comment": "Kiểm tra lại nhận xét môn Ngữ văn"},
    )
    transcript.refresh_from_db()
    assert transcript.state == State.DRAFT
    queue = english.get(reverse("hocba:queue", args=[transcript.school.code]), {"problems": "on"})
    assert "Kiểm tra lại nhận xét môn Ngữ văn" in queue.content.decode()
    english.force_login(homeroom)
    page = english.get(reverse("hocba:class", args=[transcript.school.code, class_a.pk]))
    assert "Returned: Kiểm tra lại nhận xét môn Ngữ văn" in page.content.decode()


def test_the_homeroom_teacher_cannot_return_or_reopen(english, transcript, homeroom):
    english.force_login(homeroom)
    for name in ("hocba:return", "hocba:reopen"):
        url = reverse(name, args=[transcript.school.code, transcript.pk])
        assert english.post(url, {"comment": "x"}).status_code == 403


def test_preview_of_a_draft_and_of_a_signed_version(
    english,
    transcript,
    homeroom,
    principal,
):
    english.force_login(principal)
    url = reverse("hocba:preview", args=[transcript.school.code, transcript.pk])
    page = english.get(url)
    text = page.content.decode()
    assert "DRAFT" in text and transcript.student.full_name in text
    assert "hoc_ba.css" in text
    assert page.headers["X-Frame-Options"] == "SAMEORIGIN"
    version = confirm_ready(actor=homeroom, transcript=transcript)
    text = english.get(url).content.decode()
    assert "DRAFT" not in text and version.verification_code in text


def test_queue_filters_and_constant_queries(
    english,
    signing_setup,
    class_a,
    class_a2,
    homeroom,
    principal,
):
    english.force_login(principal)
    url = reverse("hocba:queue", args=[class_a.year.school.code])
    for enrollment in class_a.enrollments.all()[:1]:
        transcript_for(student=enrollment.student, class_group=class_a)
    english.get(url)
    with CaptureQueriesContext(connection) as few:
        english.get(url)
    for enrollment in list(class_a.enrollments.all()) + list(class_a2.enrollments.all()):
        transcript_for(student=enrollment.student, class_group=enrollment.class_group)
    with CaptureQueriesContext(connection) as many:
        page = english.get(url).content.decode()
    assert len(many) == len(few)
    assert page.count('name="ids"') == 4
    only_a2 = english.get(url, {"class_group": class_a2.pk}).content.decode()
    assert only_a2.count('name="ids"') == 1
    ready = english.get(url, {"state": State.READY}).content.decode()
    assert ready.count('name="ids"') == 0
    assert "No transcripts here yet" in ready
    assert Transcript.objects.count() == 4
