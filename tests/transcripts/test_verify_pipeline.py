"""End to end: a transcript signed through the pipeline (homeroom, principal, seal) verifies as
genuine by its code, its PDF and its XML; once reopened, as superseded with the reason."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse

from tests.transcripts.conftest import (  # noqa: F401 (fixtures)
    pupil,
    role_p12,
    role_signers,
    sign_all,
    signing_setup,
    stored,
    transcript,
)
from transcripts.models import SignerRole
from transcripts.verification import verify_pdf, verify_xml
from transcripts.workflow import confirm_ready, reopen


@pytest.fixture(autouse=True)
def _no_rate_limit_leftovers():
    cache.clear()


def test_pipeline_output_verifies(client, request, homeroom, principal):
    # The fixtures come from test_pipeline (imported above); asked by name to avoid shadowing.
    signed = request.getfixturevalue("transcript")
    signers = request.getfixturevalue("role_signers")
    confirm_ready(actor=homeroom, transcript=signed)
    sign_all(signed, homeroom, principal, signers)
    version = signed.current_version
    pdf, xml = stored(version.pdf_file), stored(version.xml_file)
    labels = [str(SignerRole(r).label) for r in ("homeroom", "principal", "seal")]

    pdf_verdict = verify_pdf(pdf)
    assert pdf_verdict.outcome == "genuine", pdf_verdict.reason
    assert [str(s.role) for s in pdf_verdict.signers] == labels
    xml_verdict = verify_xml(xml)
    assert xml_verdict.outcome == "genuine", xml_verdict.reason
    assert [str(s.role) for s in xml_verdict.signers] == labels

    response = client.get(reverse("transcripts:verify_code", args=[version.verification_code]))
    assert response.context["verdict"].outcome == "genuine"
    html = response.content.decode()
    student = signed.student
    assert student.full_name not in html and student.personal_id not in html

    reopen(actor=principal, transcript=signed, reason="Phúc khảo môn Toán")
    assert verify_pdf(pdf).outcome == "superseded"
    assert verify_xml(xml).superseded_reason == "Phúc khảo môn Toán"
