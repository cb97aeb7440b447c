import pytest

from tests.transcripts.conftest import pyhanko_statuses
from tests.transcripts.csc_server import CscServer
from transcripts.signing.formats import sign_pdfs
from transcripts.signing.signers import CscError, CscSigner, sha256


@pytest.fixture
def csc(pki):
    with CscServer(pki.person_key, [pki.person, pki.ca]) as server:
        yield server


def csc_signer(server: CscServer, **overrides) -> CscSigner:
    options = {"access_token": server.token, "pin": server.pin} | overrides
    return CscSigner(server.base_url, server.credential_id, **options)


def test_credential_info_gives_the_certificate_chain(pki, csc):
    signer = csc_signer(csc)
    assert signer.certificate == pki.person and signer.chain == [pki.ca]
    assert signer.list_credentials() == [csc.credential_id]


def test_five_pdfs_use_one_authorisation_and_one_sign_hash_call(pki, pki_pdf, csc):
    signer = csc_signer(csc)
    signed = sign_pdfs(
        [pki_pdf] * 5, signer, field_name="GVCN", reason="Ký hàng loạt", location="Hà Nội"
    )
    assert csc.calls["credentials/authorize"] == 1
    assert csc.calls["signatures/signHash"] == 1
    for pdf in signed:
        assert [s.bottom_line for s in pyhanko_statuses(pdf, pki)] == [True]


def test_batches_are_split_at_the_services_multisign_limit(pki, csc):
    csc.multisign = 2
    signatures = csc_signer(csc).sign_digests([sha256(bytes([n])) for n in range(5)])
    assert len(signatures) == 5
    assert csc.calls["credentials/authorize"] == 3


def test_bad_access_token_is_a_clear_error(csc):
    with pytest.raises(CscError, match=r"refused the access token.*HTTP 401"):
        csc_signer(csc, access_token="expired")


def test_wrong_pin_is_reported_with_the_services_reason(csc):
    signer = csc_signer(csc, pin="000000")
    with pytest.raises(CscError, match="The PIN is invalid"):
        signer.sign_digest(sha256(b"x"))


def test_server_error_is_a_clear_error(pki_pdf, csc):
    signer = csc_signer(csc)
    csc.fail_with_status = 503
    with pytest.raises(CscError, match=r"failed on credentials/authorize \(HTTP 503"):
        sign_pdfs([pki_pdf] * 2, signer, field_name="GVCN", reason="r", location="l")


def test_unreachable_service_is_a_clear_error():
    with pytest.raises(CscError, match="unreachable"):
        CscSigner("http://127.0.0.1:9/csc/v2", "cred-1", access_token="t", timeout=2)
