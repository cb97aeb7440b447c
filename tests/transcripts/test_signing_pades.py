import asyncio
import datetime
import hashlib
import io
import subprocess

import pytest
from asn1crypto import cms
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes

from tests.transcripts.conftest import pyhanko_statuses
from transcripts.signing import formats
from transcripts.signing.formats import _to_asn1, sign_pdf
from transcripts.signing.signers import SigningError


def pdfsig(pdf: bytes, nssdb: str, tmp_path) -> str:
    path = tmp_path / "signed.pdf"
    path.write_bytes(pdf)
    run = subprocess.run(
        ["pdfsig", "-nssdir", nssdb, str(path)], capture_output=True, text=True, check=False
    )
    return run.stdout + run.stderr


def sign_twice(pdf: bytes, person, seal) -> bytes:
    signed = sign_pdf(pdf, person, field_name="GVCN", reason="Xác nhận", location="Hà Nội")
    return sign_pdf(signed, seal, field_name="DauTruong", reason="Đóng dấu", location="Hà Nội")


def flip_byte_in_first_stream(pdf: bytes) -> bytes:
    at = pdf.index(b"stream\n") + 20
    return pdf[:at] + bytes([pdf[at] ^ 0x01]) + pdf[at + 1 :]


def test_two_signers_both_verify_in_pdfsig_as_trusted(
    pki, pki_pdf, pki_person_signer, pki_seal_signer, pki_nssdb, tmp_path
):
    report = pdfsig(sign_twice(pki_pdf, pki_person_signer, pki_seal_signer), pki_nssdb, tmp_path)
    assert "Signature #2" in report and "Signature #3" not in report
    assert report.count("Signature is Valid.") == 2
    assert report.count("Certificate is Trusted.") == 2
    assert "Nguyễn Văn An" in report and "Trường THCS Ánh Dương" in report


def test_pyhanko_validator_finds_both_signatures_intact_valid_and_trusted(
    pki, pki_pdf, pki_person_signer, pki_seal_signer
):
    statuses = pyhanko_statuses(sign_twice(pki_pdf, pki_person_signer, pki_seal_signer), pki)
    assert len(statuses) == 2
    for status in statuses:
        assert status.intact and status.valid and status.trusted
        assert status.docmdp_ok is not False
    assert statuses[1].coverage.name == "ENTIRE_FILE"


def test_flipped_byte_makes_pdf_signatures_invalid(
    pki, pki_pdf, pki_person_signer, pki_seal_signer, pki_nssdb, tmp_path
):
    tampered = flip_byte_in_first_stream(sign_twice(pki_pdf, pki_person_signer, pki_seal_signer))
    report = pdfsig(tampered, pki_nssdb, tmp_path)
    assert "Signature is Valid." not in report
    assert not any(s.intact for s in pyhanko_statuses(tampered, pki))


def test_pdf_signed_through_softhsm_token_verifies(pki, pki_pdf, pki_softhsm, pki_nssdb, tmp_path):
    signer = pki_softhsm()
    try:
        signed = sign_pdf(pki_pdf, signer, field_name="GVCN", reason="Ký", location="Hà Nội")
    finally:
        signer.close()
    report = pdfsig(signed, pki_nssdb, tmp_path)
    assert "Signature is Valid." in report and "Certificate is Trusted." in report
    assert [s.bottom_line for s in pyhanko_statuses(signed, pki)] == [True]


def _container(pdf: bytes) -> cms.ContentInfo:
    """The last signature's CMS container (its /Contents without the padding)."""
    signature = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures[-1]
    return cms.ContentInfo.load(signature.pkcs7_content, strict=False)


def test_each_certificate_is_embedded_once(pki, pki_pdf, pki_person_signer):
    signed = sign_pdf(pki_pdf, pki_person_signer, field_name="GVCN", reason="Ký", location="HN")
    embedded = [c.chosen.dump() for c in _container(signed)["content"]["certificates"]]
    assert sorted(embedded) == sorted(_to_asn1(c).dump() for c in (pki.person, pki.ca))


def test_signature_container_fits_its_reservation_with_room(pki_pdf, pki_person_signer):
    signed = sign_pdf(pki_pdf, pki_person_signer, field_name="GVCN", reason="Ký", location="HN")
    reserved = formats.signature_reservation(pki_person_signer, timestamped=False)
    used = 2 * len(_container(signed).dump())
    assert used + 2 * (formats.CMS_OVERHEAD_BYTES - 1024) <= reserved
    timestamped = formats.signature_reservation(pki_person_signer, timestamped=True)
    assert timestamped == reserved + 2 * formats.TIMESTAMP_TOKEN_BYTES


def test_too_small_a_reservation_fails_the_signature_and_returns_no_document(
    monkeypatch, pki_pdf, pki_person_signer
):
    monkeypatch.setattr(formats, "signature_reservation", lambda signer, *, timestamped: 2048)
    with pytest.raises(SigningError, match="larger than expected"):
        sign_pdf(pki_pdf, pki_person_signer, field_name="GVCN", reason="Ký", location="HN")


def test_pades_signed_attributes_are_pyhankos_default_ones(pki_person_signer):
    """Our PAdES attributes, built faster, are byte for byte what pyHanko would build."""
    digest = hashlib.sha256(b"hoc ba").digest()
    settings = PdfCMSSignedAttributes(signing_time=datetime.datetime.now(datetime.UTC))

    def signed_attrs(adapter: formats.PyHankoAdapter) -> bytes:
        coroutine = adapter.signed_attrs(
            digest, "sha256", attr_settings=settings, use_pades=True, is_pdf_sig=True
        )
        return asyncio.run(coroutine).dump()

    ours = signed_attrs(formats.PyHankoAdapter(pki_person_signer, pades=True))
    assert ours == signed_attrs(formats.PyHankoAdapter(pki_person_signer))
    assert ours == signed_attrs(formats.PyHankoAdapter(pki_person_signer, pades=True))  # cached
