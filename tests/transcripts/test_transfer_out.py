"""Issue 16, item 4 (leaving): a student who transfers out mid-year keeps a transcript of the
year so far. Only the terms that ended before they left must be complete; it is confirmed,
signed and sealed like any other, and exported alone as the single package the new school
receives (tests/transcripts/test_transfers.py)."""

from __future__ import annotations

import datetime
import io

import pytest
from django.urls import reverse

from schools.setup_services import transfer_student_out
from tests.gradebook.marks import all_scored, homeroom_marks, year_of
from tests.transcripts.conftest import export_now, finalise, stored
from transcripts.models import JobStatus, PackageKind, State, Transcript, TranscriptJob
from transcripts.packages.verify import verify_package
from transcripts.workflow import confirm_ready, incomplete_reasons, transcript_for

pytestmark = pytest.mark.usefixtures("english")

IN_TERM_TWO = datetime.date(2026, 3, 2)  # term I ended on 15/01/2026, term II ends 25/05/2026
IN_TERM_ONE = datetime.date(2025, 11, 10)


def leave(class_group, student, day: datetime.date) -> None:
    transfer_student_out(enrollment=class_group.enrollments.get(student=student), left_on=day)


def term_one_only(class_group, student) -> None:
    year_of(class_group, student, all_scored("8"), terms=(1,))
    homeroom_marks(student, conduct=("T",))


def test_a_student_who_left_in_term_two_is_confirmed_with_term_one(class_a, pupil, homeroom):
    term_one_only(class_a, pupil)
    transcript = transcript_for(student=pupil, class_group=class_a)
    assert incomplete_reasons(transcript)  # still in the class: the whole year is due
    leave(class_a, pupil, IN_TERM_TWO)
    assert incomplete_reasons(transcript) == []
    version = confirm_ready(actor=homeroom, transcript=transcript)
    maths = next(row for row in version.snapshot["subjects"] if row["code"] == "TOAN")
    assert maths["term1"] is not None
    assert maths["term2"] is None and maths["year"] is None


def test_a_leaver_still_needs_the_terms_that_ended_before_leaving(class_a, pupil):
    leave(class_a, pupil, IN_TERM_TWO)
    reasons = incomplete_reasons(transcript_for(student=pupil, class_group=class_a))
    assert "Toán has no term I result" in reasons
    assert "the term I conduct is not set" in reasons


def test_a_student_who_left_during_term_one_needs_nothing(class_a, pupil):
    leave(class_a, pupil, IN_TERM_ONE)
    assert incomplete_reasons(transcript_for(student=pupil, class_group=class_a)) == []


def test_leaving_after_the_year_ended_needs_the_whole_year(class_a, pupil):
    term_one_only(class_a, pupil)
    class_a.enrollments.filter(student=pupil).update(left_on=datetime.date(2026, 6, 1))
    reasons = incomplete_reasons(transcript_for(student=pupil, class_group=class_a))
    assert "Toán has no year result" in reasons


def test_the_year_so_far_is_signed_and_exported_alone(
    signing_setup, credentials, class_a, pupil, homeroom, principal, admin, role_signers, pki
):
    term_one_only(class_a, pupil)
    leave(class_a, pupil, IN_TERM_TWO)
    transcript = transcript_for(student=pupil, class_group=class_a)
    finalise(transcript, homeroom, principal, role_signers)
    transcript.refresh_from_db()
    assert transcript.state == State.FINAL
    package = export_now(admin, class_a.year.school, kind=PackageKind.SINGLE, student=pupil)
    assert package.status == JobStatus.FINISHED, package.failures
    report = verify_package(io.BytesIO(stored(package.file)), anchor_paths=[pki.ca_pem])
    assert report.ok, report.problems
    assert [entry.student_code for entry in report.manifest.transcripts] == [pupil.student_code]


def test_the_class_page_lists_the_leaver_and_confirms_the_year_so_far(
    client, class_a, pupil, homeroom, signing_setup
):
    term_one_only(class_a, pupil)
    leave(class_a, pupil, IN_TERM_TWO)
    client.force_login(homeroom)
    url = reverse("hocba:class", args=[class_a.year.school.code, class_a.pk])
    page = client.get(url).content.decode()
    assert "Transferred out on" in page
    job = reverse("hocba:class_job", args=[class_a.year.school.code, class_a.pk])
    client.post(job, {"steps": "confirm"})
    transcript = Transcript.objects.get(student=pupil)  # created for the job, which confirms it
    assert transcript.pk in TranscriptJob.objects.latest("pk").transcript_ids
