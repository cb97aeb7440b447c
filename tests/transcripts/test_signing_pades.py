import subprocess

from tests.transcripts.conftest import pyhanko_statuses
from transcripts.signing.formats import sign_pdf


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
