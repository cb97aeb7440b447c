"""Render once, then sign as homeroom teacher, principal and school seal: every stored PDF and XML
verifies with independent tools (pdfsig, xmlsec1) and the XSD; refusals change nothing."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from django.utils import translation

from gradebook.columns import subject_columns
from gradebook.services import save_mark
from tests.transcripts.conftest import (
    actors,
    assert_pdf_signatures,
    assert_xml_signatures,
    complete_year,
    sign_all,
    stored,
)
from transcripts.models import SignerRole, State, TranscriptSignature
from transcripts.pipeline import confirm_one, render_version, sign_batch, sign_one, sign_version
from transcripts.signing import formats
from transcripts.signing.certificates import SigningRefused
from transcripts.signing.signers import SigningError
from transcripts.workflow import TranscriptRefused, confirm_ready, reopen, transcript_for
from transcripts.xml import validate_xml


def sign_as_homeroom(actor, transcript, signer):
    return sign_version(actor=actor, transcript=transcript, role="homeroom", signer=signer)


def test_full_path_confirm_and_three_signatures(
    transcript, homeroom, principal, role_signers, pki, pki_nssdb, tmp_path
):
    version = confirm_ready(actor=homeroom, transcript=transcript)
    sign_all(transcript, homeroom, principal, role_signers)
    transcript.refresh_from_db()
    version.refresh_from_db()
    assert transcript.state == State.FINAL
    assert version.pdf_file.name.endswith("/v1/hocba-3-seal.pdf")
    assert version.xml_file.name.endswith("/v1/hocba-3-seal.xml")
    pdf, xml = stored(version.pdf_file), stored(version.xml_file)
    assert version.pdf_sha256 == __import__("hashlib").sha256(pdf).hexdigest()
    assert_pdf_signatures(pdf, 3, pki_nssdb, tmp_path)
    assert_xml_signatures(xml, 3, pki.ca_pem, tmp_path)
    signatures = {s.role: s for s in version.signatures.all()}
    assert set(signatures) == set(SignerRole.values)
    assert "CN=principal" in signatures[SignerRole.PRINCIPAL].certificate_subject
    assert signatures[SignerRole.SEAL].certificate_serial == format(
        role_signers[SignerRole.SEAL].certificate.serial_number, "X"
    )
    assert b"/verify/" + version.verification_code.encode() in subprocess.run(
        ["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.replace(b"\n", b"")


def test_signing_the_same_role_twice_is_refused_and_changes_nothing(
    transcript, homeroom, role_signers
):
    confirm_ready(actor=homeroom, transcript=transcript)
    signer = role_signers[SignerRole.HOMEROOM]
    sign_version(actor=homeroom, transcript=transcript, role="homeroom", signer=signer)
    version = transcript.current_version
    before = (version.pdf_file.name, version.pdf_sha256, version.xml_sha256)
    with pytest.raises(TranscriptRefused):
        sign_version(actor=homeroom, transcript=transcript, role="homeroom", signer=signer)
    again = sign_batch(actor=homeroom, transcripts=[transcript], role="homeroom", signer=signer)
    assert again.ok and again.skipped == 1 and again.done == 0
    version.refresh_from_db()
    assert (version.pdf_file.name, version.pdf_sha256, version.xml_sha256) == before
    assert TranscriptSignature.objects.filter(version=version).count() == 1


def test_a_certificate_of_someone_else_is_refused_before_anything_changes(
    transcript, homeroom, principal, role_signers
):
    confirm_ready(actor=homeroom, transcript=transcript)
    with translation.override("en"), pytest.raises(SigningRefused, match="belongs to"):
        sign_as_homeroom(homeroom, transcript, role_signers[SignerRole.PRINCIPAL])
    with pytest.raises(SigningRefused):  # a person's certificate is not the school seal
        sign_as_homeroom(principal, transcript, role_signers[SignerRole.HOMEROOM])
    transcript.refresh_from_db()
    version = transcript.current_version
    assert transcript.state == State.READY
    assert version.rendered_at is None and not version.pdf_file and not version.pdf_sha256
    assert not TranscriptSignature.objects.exists()


def test_the_right_certificate_in_the_wrong_hands_writes_nothing(
    transcript, homeroom, teacher, role_signers
):
    """The workflow refuses a signer who is not the class's homeroom teacher: no new files."""
    confirm_ready(actor=homeroom, transcript=transcript)
    version = render_version(version=transcript.current_version)
    before = (version.pdf_file.name, version.pdf_sha256)
    teacher.full_name = "homeroom"  # same name as the certificate, but not this class's teacher
    teacher.save()
    with pytest.raises(TranscriptRefused):
        sign_as_homeroom(teacher, transcript, role_signers[SignerRole.HOMEROOM])
    version.refresh_from_db()
    assert (version.pdf_file.name, version.pdf_sha256) == before
    files = list(Path(version.pdf_file.path).parent.iterdir())
    assert sorted(p.name for p in files) == ["hocba-0-rendered.pdf", "hocba-0-rendered.xml"]


def test_a_signature_too_big_for_its_reservation_writes_nothing(
    monkeypatch, transcript, homeroom, role_signers
):
    confirm_ready(actor=homeroom, transcript=transcript)
    version = render_version(version=transcript.current_version)
    before = (version.pdf_file.name, version.pdf_sha256, version.xml_sha256)
    monkeypatch.setattr(formats, "signature_reservation", lambda signer, *, timestamped: 2048)
    with pytest.raises(SigningError, match="larger than expected"):
        sign_as_homeroom(homeroom, transcript, role_signers[SignerRole.HOMEROOM])
    version.refresh_from_db()
    assert transcript.state == State.READY and not TranscriptSignature.objects.exists()
    assert (version.pdf_file.name, version.pdf_sha256, version.xml_sha256) == before
    files = sorted(p.name for p in Path(version.pdf_file.path).parent.iterdir())
    assert files == ["hocba-0-rendered.pdf", "hocba-0-rendered.xml"]


def test_queries_per_transcript_through_the_batch_steps(
    transcript, homeroom, principal, role_signers, django_assert_num_queries
):
    """What one transcript costs through a job's steps (issue 7; before: 23, 26, 21, 21 — the
    year results computed twice, every role's permission query run for each role, the school
    re-read after each refresh). Savepoints count: the test runs inside a transaction. The
    snapshot reads the school's principal and the class's subject teachers (issue 14: +2); the
    teachers' comments come with the year results' marks (issue 15: -1); the year results read
    the student's approved exemptions (issue 16: +1); confirming reads whether the student left
    the class, for a transcript of the year so far (issue 16, transfers: +1)."""
    with django_assert_num_queries(18):
        confirm_one(actor=homeroom, transcript=transcript)
    for role, actor in actors(homeroom, principal).items():
        with django_assert_num_queries(20 if role == SignerRole.HOMEROOM else 16):  # + render
            sign_one(actor=actor, transcript=transcript, role=role, signer=role_signers[role])
    assert transcript.state == State.FINAL


def test_a_version_is_rendered_once(transcript, homeroom):
    version = confirm_ready(actor=homeroom, transcript=transcript)
    rendered = render_version(version=version)
    first = (rendered.rendered_at, rendered.pdf_file.name, rendered.pdf_sha256)
    validate_xml(stored(rendered.xml_file))
    again = render_version(version=type(version).objects.get(pk=version.pk))
    assert (again.rendered_at, again.pdf_file.name, again.pdf_sha256) == first


def test_reopened_transcript_gets_a_second_version_and_the_first_still_verifies(
    transcript, class_a, pupil, homeroom, principal, teacher, role_signers, pki_nssdb, tmp_path
):
    first = confirm_ready(actor=homeroom, transcript=transcript)
    sign_all(transcript, homeroom, principal, role_signers)
    reopen(actor=principal, transcript=transcript, reason="Phúc khảo môn Toán")
    entry = class_a.year.curriculum.get(grade=class_a.grade, subject__code="TOAN")
    save_mark(actor=teacher, class_group=class_a, student=pupil,
              column=subject_columns(entry, 2)[-2], text="9", base_version=None)  # fmt: skip
    second = confirm_ready(actor=homeroom, transcript=transcript)
    assert second.number == 2
    sign_all(transcript, homeroom, principal, role_signers)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.superseded_at and first.superseded_reason == "Phúc khảo môn Toán"
    assert second.superseded_at is None and transcript.current_version == second
    assert "/v1/" in first.pdf_file.name and "/v2/" in second.pdf_file.name
    assert first.pdf_sha256 != second.pdf_sha256
    assert_pdf_signatures(stored(first.pdf_file), 3, pki_nssdb, tmp_path)
    assert_pdf_signatures(stored(second.pdf_file), 3, pki_nssdb, tmp_path)
    assert first.signatures.count() == 3 and second.signatures.count() == 3


def test_a_batch_lists_failures_and_carries_on(signing_setup, class_a, homeroom, role_signers):
    students = [e.student for e in class_a.enrollments.order_by("roll_number")]
    complete_year(class_a, students[0])
    transcripts = [transcript_for(student=s, class_group=class_a) for s in students[:2]]
    confirm_ready(actor=homeroom, transcript=transcripts[0])  # the second stays a draft
    result = sign_batch(
        actor=homeroom,
        transcripts=transcripts,
        role="homeroom",
        signer=role_signers[SignerRole.HOMEROOM],
    )
    assert [item.outcome for item in result.items] == ["done", "failed"]
    assert result.failed[0].student == students[1].full_name and result.failed[0].message
    assert not result.ok
