"""Public verification (issue 5): by code (QR target) and by uploading the signed PDF or XML."""

from __future__ import annotations

import hashlib
import os

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation

from tests.transcripts.conftest import pki_make_cert
from transcripts import verification
from transcripts.models import (
    SignerRole,
    State,
    Transcript,
    TranscriptSignature,
    TranscriptVersion,
    VerificationLookup,
)
from transcripts.signing.formats import sign_pdf, sign_xml
from transcripts.signing.signers import Pkcs12Signer

HOME = "/verify/"


@pytest.fixture(autouse=True)
def _fresh(settings, pki):
    settings.SIGNING_TRUST_ANCHORS = [str(pki.ca_pem)]
    cache.clear()
    with translation.override("en"):
        yield
    cache.clear()


@pytest.fixture
def pupil(class_a):
    return class_a.enrollments.order_by("roll_number").first().student


def make_version(class_a, pupil, homeroom, principal, *, roles=tuple(SignerRole.values), **files):
    transcript, _ = Transcript.objects.get_or_create(
        student=pupil,
        year=class_a.year,
        defaults={"school": class_a.year.school, "class_group": class_a},
    )
    transcript.state = State.FINAL if SignerRole.SEAL in roles else State.SIGNED_HOMEROOM
    transcript.save()
    number = transcript.versions.count() + 1
    version = TranscriptVersion.objects.create(
        transcript=transcript,
        number=number,
        snapshot={},
        snapshot_sha256="0" * 64,
        created_by=homeroom,
        **files,
    )
    actors = {"homeroom": homeroom, "principal": principal, "seal": principal}
    subjects = {
        "homeroom": "CN=Nguyễn Văn An",
        "principal": "CN=Trần Hiệu Trưởng",
        "seal": "CN=Trường THCS Ánh Dương,O=Trường THCS Ánh Dương",
    }
    for role in roles:
        TranscriptSignature.objects.create(
            version=version, role=role, signed_by=actors[role], certificate_subject=subjects[role]
        )
    return version


@pytest.fixture(scope="module")
def signed_pdf(pki_pdf, pki_person_signer, pki_seal_signer) -> bytes:
    once = sign_pdf(
        pki_pdf, pki_person_signer, field_name="Sig_homeroom", reason="r", location="Hà Nội"
    )
    return sign_pdf(once, pki_seal_signer, field_name="Sig_seal", reason="r", location="Hà Nội")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def upload(client, data: bytes, name: str = "hoc-ba.pdf"):
    return client.post(HOME, {"file": SimpleUploadedFile(name, data)})


# --- by code -------------------------------------------------------------------------------------


def test_code_of_a_final_current_version_is_genuine(client, class_a, pupil, homeroom, principal):
    version = make_version(class_a, pupil, homeroom, principal)
    response = client.get(reverse("transcripts:verify_code", args=[version.verification_code]))
    assert response.status_code == 200
    verdict = response.context["verdict"]
    assert verdict.outcome == "genuine"
    assert [s.name for s in verdict.signers] == [
        "Nguyễn Văn An", "Trần Hiệu Trưởng", "Trường THCS Ánh Dương"
    ]  # fmt: skip
    assert verdict.version_number == 1 and verdict.school_year == class_a.year.name
    html = response.content.decode()
    assert 'data-outcome="genuine"' in html
    assert pupil.full_name not in html and pupil.personal_id not in html
    assert pupil.student_code not in html
    lookup = VerificationLookup.objects.get()
    assert (lookup.method, lookup.outcome, lookup.version) == ("code", "genuine", version)
    assert lookup.client_ip == "127.0.0.1"


def test_code_is_case_and_space_insensitive(client, class_a, pupil, homeroom, principal):
    version = make_version(class_a, pupil, homeroom, principal)
    code = version.verification_code.lower()
    response = client.get(HOME, {"code": f" {code[:4]} {code[4:]} "})
    assert response.status_code == 302
    assert client.get(response.url).context["verdict"].outcome == "genuine"


def test_unknown_code(client, db):
    response = client.get(reverse("transcripts:verify_code", args=["NOPE234567"]))
    assert response.status_code == 200
    assert response.context["verdict"].outcome == "unknown"
    assert 'data-outcome="unknown"' in response.content.decode()
    assert VerificationLookup.objects.get().outcome == "unknown"


def test_unsigned_version_is_not_final(client, class_a, pupil, homeroom, principal):
    version = make_version(class_a, pupil, homeroom, principal, roles=("homeroom",))
    response = client.get(reverse("transcripts:verify_code", args=[version.verification_code]))
    assert response.context["verdict"].outcome == "not_final"
    assert "Chưa phải văn bản chính thức" in response.content.decode()  # vi by default


def test_superseded_version_says_why(client, class_a, pupil, homeroom, principal):
    old = make_version(class_a, pupil, homeroom, principal)
    old.superseded_at = timezone.now()
    old.superseded_reason = "Sửa điểm Toán sau phúc khảo"
    old.save()
    make_version(class_a, pupil, homeroom, principal)
    response = client.get(reverse("transcripts:verify_code", args=[old.verification_code]))
    assert response.context["verdict"].outcome == "superseded"
    assert "Sửa điểm Toán sau phúc khảo" in response.content.decode()


# --- PDF -----------------------------------------------------------------------------------------


def test_signed_pdf_is_genuine_with_two_signers(
    client, class_a, pupil, homeroom, principal, signed_pdf, pki
):
    version = make_version(class_a, pupil, homeroom, principal, pdf_sha256=sha(signed_pdf))
    response = upload(client, signed_pdf)
    assert response.status_code == 200
    verdict = response.context["verdict"]
    assert verdict.outcome == "genuine", verdict.reason
    assert [(s.name, str(s.role)) for s in verdict.signers] == [
        ("Nguyễn Văn An", str(SignerRole.HOMEROOM.label)),
        ("Trường THCS Ánh Dương", str(SignerRole.SEAL.label)),
    ]
    assert all(s.signed_at is not None for s in verdict.signers)
    html = response.content.decode()
    assert pupil.full_name not in html and pupil.personal_id not in html
    lookup = VerificationLookup.objects.get()
    assert (lookup.method, lookup.outcome, lookup.version) == ("pdf", "genuine", version)


def test_one_flipped_byte_is_not_genuine(client, class_a, pupil, homeroom, principal, signed_pdf):
    make_version(class_a, pupil, homeroom, principal, pdf_sha256=sha(signed_pdf))
    for position in (len(signed_pdf) // 3, len(signed_pdf) // 2, len(signed_pdf) - 200):
        tampered = bytearray(signed_pdf)
        tampered[position] ^= 0x01
        verdict = verification.verify_pdf(bytes(tampered))
        assert verdict.outcome == "invalid", position
    response = upload(client, bytes(tampered))
    assert response.status_code == 200
    assert 'data-outcome="invalid"' in response.content.decode()


def test_superseded_pdf_still_verifies_and_says_superseded(
    client, class_a, pupil, homeroom, principal, signed_pdf
):
    version = make_version(class_a, pupil, homeroom, principal, pdf_sha256=sha(signed_pdf))
    version.superseded_at = timezone.now()
    version.superseded_reason = "Mở lại để sửa hạnh kiểm"
    version.save()
    response = upload(client, signed_pdf)
    assert response.context["verdict"].outcome == "superseded"
    assert "Mở lại để sửa hạnh kiểm" in response.content.decode()


def test_pdf_from_an_untrusted_ca_is_not_genuine(pki, pki_pdf, db):
    rogue_ca = pki_make_cert(common_name="Test CA — Sổ điểm", ca=True)
    key, cert = pki_make_cert(common_name="Nguyễn Văn An", issuer=rogue_ca)
    rogue = sign_pdf(
        pki_pdf, Pkcs12Signer(key, cert, [rogue_ca[1]]), field_name="S", reason="r", location="x"
    )
    verdict = verification.verify_pdf(rogue)
    assert verdict.outcome == "invalid"
    assert "trusted" in verdict.reason


def test_valid_signatures_on_an_unknown_file(client, signed_pdf, db):
    response = upload(client, signed_pdf)  # no version has this hash
    verdict = response.context["verdict"]
    assert verdict.outcome == "unknown_document" and len(verdict.signers) == 2
    assert 'data-outcome="unknown_document"' in response.content.decode()
    assert VerificationLookup.objects.get().version is None


@pytest.mark.parametrize(
    "data", [os.urandom(5000), b"%PDF-1.7\n" + os.urandom(3000), b"", b"<not xml"]
)
def test_garbage_is_invalid_never_a_500(client, db, data):
    response = upload(client, data, "x.bin")
    assert response.status_code == 200
    assert response.context["verdict"].outcome == "invalid"


def test_unsigned_pdf_is_invalid(pki_pdf, db):
    assert verification.verify_pdf(pki_pdf).outcome == "invalid"


def test_too_large_upload_is_refused(client, db, monkeypatch):
    from transcripts.views import verify

    monkeypatch.setattr(verify, "MAX_UPLOAD_BYTES", 100)
    response = upload(client, b"%PDF-" + b"0" * 200)
    assert response.context["verdict"].outcome == "invalid"
    assert "10 MB" in response.context["verdict"].reason
    assert verification.verify_pdf(b"0" * (verification.MAX_UPLOAD_BYTES + 1)).outcome == "invalid"


def test_post_without_a_file(client, db):
    assert client.post(HOME).status_code == 400


# --- XML -----------------------------------------------------------------------------------------


def hoc_ba_xml(version: TranscriptVersion | None, pupil_name: str = "Nguyễn Văn An") -> bytes:
    attrs = (
        f' maHocBa="{version.transcript.public_id}" phienBan="{version.number}"' if version else ""
    )
    return (
        f'<hocBaSo><hocBa Id="data"{attrs}><hoTen>{pupil_name}</hoTen><diem>8.5</diem></hocBa>'
        "</hocBaSo>"
    ).encode()


def sign_twice(xml: bytes, person, seal) -> bytes:
    return sign_xml(sign_xml(xml, person, reference_id="data"), seal, reference_id="data")


def test_signed_xml_is_genuine(
    client, class_a, pupil, homeroom, principal, pki_person_signer, pki_seal_signer
):
    version = make_version(class_a, pupil, homeroom, principal)
    signed = sign_twice(hoc_ba_xml(version), pki_person_signer, pki_seal_signer)
    version.xml_sha256 = sha(signed)
    version.save()
    response = upload(client, signed, "hoc-ba.xml")
    verdict = response.context["verdict"]
    assert verdict.outcome == "genuine", verdict.reason
    assert [s.name for s in verdict.signers] == ["Nguyễn Văn An", "Trường THCS Ánh Dương"]
    labels = [str(SignerRole.HOMEROOM.label), str(SignerRole.SEAL.label)]
    assert [str(s.role) for s in verdict.signers] == labels  # by the recorded subjects
    assert all(s.signed_at for s in verdict.signers)
    assert VerificationLookup.objects.get().method == "xml"


def test_reserialised_xml_matches_by_transcript_id_and_version(
    class_a, pupil, homeroom, principal, pki_person_signer, pki_seal_signer, tmp_path, settings
):
    from django.core.files.base import ContentFile

    settings.MEDIA_ROOT = str(tmp_path)
    version = make_version(class_a, pupil, homeroom, principal)
    signed = sign_twice(hoc_ba_xml(version), pki_person_signer, pki_seal_signer)
    version.xml_file.save("hoc-ba.xml", ContentFile(signed))
    reserialised = signed.replace(b"?>", b"?>\n<!-- copy -->", 1)
    assert verification.verify_xml(reserialised).outcome == "genuine"


def test_tampered_xml_is_not_genuine(
    class_a, pupil, homeroom, principal, pki_person_signer, pki_seal_signer
):
    version = make_version(class_a, pupil, homeroom, principal)
    signed = sign_twice(hoc_ba_xml(version), pki_person_signer, pki_seal_signer)
    version.xml_sha256 = sha(signed)
    version.save()
    assert verification.verify_xml(signed.replace(b"8.5", b"9.5")).outcome == "invalid"


def test_xml_from_an_untrusted_ca_is_not_genuine(db, pki_seal_signer):
    rogue_ca = pki_make_cert(common_name="Test CA — Sổ điểm", ca=True)
    key, cert = pki_make_cert(common_name="Nguyễn Văn An", issuer=rogue_ca)
    rogue = Pkcs12Signer(key, cert, [rogue_ca[1]])
    verdict = verification.verify_xml(sign_twice(hoc_ba_xml(None), pki_seal_signer, rogue))
    assert verdict.outcome == "invalid" and "trusted" in verdict.reason


def test_xml_without_signature_or_with_entities_is_invalid(db):
    assert verification.verify_xml(hoc_ba_xml(None)).outcome == "invalid"
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<hocBaSo>&x;</hocBaSo>"
    )
    verdict = verification.verify_xml(xxe)
    assert verdict.outcome == "invalid" and "root:" not in verdict.reason


def test_valid_xml_signatures_of_an_unknown_document(db, pki_person_signer, pki_seal_signer):
    signed = sign_twice(hoc_ba_xml(None), pki_person_signer, pki_seal_signer)
    assert verification.verify_xml(signed).outcome == "unknown_document"


# --- rate limit and log --------------------------------------------------------------------------


def test_rate_limit_answers_429_and_logs_every_lookup(client, db, settings):
    settings.VERIFY_RATE_LIMIT = (3, 600)
    url = reverse("transcripts:verify_code", args=["NOPE234567"])
    statuses = [client.get(url).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    refused = client.get(url)
    assert refused.status_code == 429
    assert "Bạn đã tra cứu quá nhiều lần" in refused.content.decode()  # vi by default
    assert upload(client, b"%PDF-").status_code == 429
    assert client.get(HOME).status_code == 200  # the form itself is not a lookup
    outcomes = list(VerificationLookup.objects.order_by("pk").values_list("outcome", flat=True))
    assert outcomes == ["unknown"] * 3 + ["rate_limited"] * 2


def test_user_agent_is_truncated(client, db):
    client.get(reverse("transcripts:verify_code", args=["X"]), HTTP_USER_AGENT="A" * 1000)
    assert len(VerificationLookup.objects.get().user_agent) == 300


def test_page_works_for_anonymous_visitors_in_vietnamese(client, db):
    with translation.override("vi"):
        response = client.get(HOME, HTTP_ACCEPT_LANGUAGE="vi")
    assert response.status_code == 200
    assert b'name="csrfmiddlewaretoken"' in response.content
