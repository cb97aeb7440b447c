import asyncio
import dataclasses
import io
import threading
from collections import Counter
from collections.abc import Iterator

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, utils
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from tests.transcripts.conftest import PKI_PERSON, PKI_SCHOOL, pyhanko_statuses
from transcripts.signing import services
from transcripts.signing.demo_services import CscServer
from transcripts.signing.formats import _to_asn1, sign_pdfs
from transcripts.signing.signers import CscError, CscSigner, sha256
from transcripts.signing.sources import BatchSummary, Signed


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


# --- the CSC adapter (services/csc.py), API v1.0.4 and v2 ----------------------------------

DIGESTS = [sha256(f"tệp {n}".encode()) for n in range(90)]
SUMMARY = BatchSummary(
    school=PKI_SCHOOL,
    role="Hiệu trưởng",
    signer=PKI_PERSON,
    transcripts=45,
    documents=90,
    class_names=("6A1",),
)


def assert_values_verify(certificate: x509.Certificate, digests, values) -> None:
    assert len(values) == len(digests)
    for digest, value in zip(digests, values, strict=True):
        certificate.public_key().verify(
            value, digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256())
        )


def csc_service(settings, server: CscServer, **options) -> services.RemoteService:
    settings.SIGNING_SERVICES = {
        "csc-test": {
            "adapter": "csc",
            "label": "CSC thử nghiệm",
            "base_url": server.base_url,
            "token": server.token,
        }
        | options
    }
    return services.service("csc-test")


def sign_batch(settings, server: CscServer, *, secret=None, account=None, **options):
    """The adapter's source for the server's credential; a batch of 90 digests through it."""
    service = csc_service(settings, server, **options)
    account = account or {"credential_id": server.credential_id}
    source = service.source(account=account, secret=server.pin if secret is None else secret)
    return source, source.request(DIGESTS, summary=SUMMARY, request_key="batch-1")


@pytest.fixture(params=["v1", "v2"])
def csc_any(request, pki):
    with CscServer(pki.person_key, [pki.person, pki.ca], api_version=request.param) as server:
        yield server


def test_ninety_digests_cost_one_authorisation_when_multisign_allows(pki, settings, csc_any):
    source, outcome = sign_batch(settings, csc_any)
    assert isinstance(outcome, Signed)
    assert_values_verify(pki.person, DIGESTS, outcome.values)
    assert source.authorisations == 1 == csc_any.calls["credentials/authorize"]
    assert csc_any.calls["signatures/signHash"] == 1


def test_multisign_50_makes_ninety_digests_two_authorisations(pki, settings, csc_any):
    csc_any.multisign = 50
    source, outcome = sign_batch(settings, csc_any)
    assert_values_verify(pki.person, DIGESTS, outcome.values)
    assert source.authorisations == 2 == csc_any.calls["credentials/authorize"]


def test_max_hashes_per_call_splits_sign_hash_under_one_authorisation(pki, settings, csc_any):
    source, outcome = sign_batch(settings, csc_any, max_hashes_per_call=40)
    assert_values_verify(pki.person, DIGESTS, outcome.values)
    assert source.authorisations == 1 == csc_any.calls["credentials/authorize"]
    assert csc_any.calls["signatures/signHash"] == 3


def test_the_service_refuses_more_signatures_than_multisign_per_authorisation(csc):
    signer = csc_signer(csc)
    signer.multisign = 200  # a client that ignores the credential's limit
    with pytest.raises(CscError, match=r"HTTP 400.*numSignatures must be 1 to multisign \(100\)"):
        signer.sign_digests(DIGESTS * 2)


def test_wrong_pin_through_the_adapter_is_a_clear_error(settings, csc_any):
    with pytest.raises(CscError, match=r"authorize \(HTTP 400: invalid_pin – The PIN is invalid"):
        sign_batch(settings, csc_any, secret="000000")


def test_an_empty_pin_is_not_sent_to_a_credential_in_implicit_mode(pki, settings):
    with CscServer(pki.person_key, [pki.person, pki.ca], pin=None) as server:
        _source, outcome = sign_batch(settings, server, secret="")
    assert_values_verify(pki.person, DIGESTS, outcome.values)


def test_the_otp_option_sends_the_secret_as_the_otp(pki, settings):
    with CscServer(pki.person_key, [pki.person, pki.ca], pin=None, otp="654321") as server:
        _source, outcome = sign_batch(settings, server, secret="654321", otp=True)
        assert_values_verify(pki.person, DIGESTS, outcome.values)
        with pytest.raises(CscError, match="The OTP is invalid"):
            sign_batch(settings, server, secret="111111", otp=True)


@pytest.mark.parametrize(
    ("tamper", "message"),
    [("corrupt", "a signature that does not verify"), ("drop", "89 signatures for 90 hashes")],
)
def test_a_wrong_answer_from_the_service_is_refused(settings, csc_any, tamper, message):
    csc_any.tamper = tamper
    with pytest.raises(CscError, match=message):
        sign_batch(settings, csc_any)


def test_a_v1_request_is_refused_by_a_v2_service(pki):
    """The fake reads each version's own parameter names (v2: hashes, authData)."""
    with CscServer(pki.person_key, [pki.person, pki.ca], pin=None) as server:
        signer = csc_signer(server, api_version="v1")
        with pytest.raises(
            CscError, match=r"authorize \(HTTP 400: invalid_request – Missing hashes"
        ):
            signer.sign_digest(sha256(b"x"))


@pytest.fixture
def csc_login_v1(pki):
    """A CSC 1.0.4 service whose users sign in with a password (no static token)."""
    with CscServer(
        pki.person_key,
        [pki.person, pki.ca],
        api_version="v1",
        token=None,
        users={"nva": "mat-khau-dich-vu"},
    ) as server:
        yield server


def test_auth_login_exchanges_the_signers_password_for_a_token(pki, settings, csc_login_v1):
    account = {"credential_id": "cred-1", "username": "nva", "password": "mat-khau-dich-vu"}
    source, outcome = sign_batch(settings, csc_login_v1, account=account)
    assert_values_verify(pki.person, DIGESTS, outcome.values)
    assert csc_login_v1.calls["auth/login"] == 1
    assert source.authorisations == 1


def test_a_wrong_service_password_is_a_clear_error(settings, csc_login_v1):
    account = {"credential_id": "cred-1", "username": "nva", "password": "sai"}
    with pytest.raises(CscError, match=r"refused the user name or password \(HTTP 401"):
        sign_batch(settings, csc_login_v1, account=account)


def test_without_a_login_the_service_refuses_the_request(settings, csc_login_v1):
    with pytest.raises(CscError, match=r"refused the access token.*HTTP 401"):
        sign_batch(settings, csc_login_v1)


# --- certomancer-csc-dummy: a third party's CSC 1.0.4 implementation -------------------------

CERTOMANCER_CONFIG = """
keysets:
  school:
    keys:
      root: {path: root.key.pem}
      signer: {path: signer.key.pem}
pki-architectures:
  school:
    keyset: school
    entity-defaults: {country-name: VN, organization-name: "%(school)s"}
    entities:
      root: {common-name: "CA thử nghiệm certomancer"}
      signer: {common-name: "%(person)s"}
    certs:
      root:
        subject: root
        issuer: root
        validity: {valid-from: "2020-01-01T00:00:00+0000", valid-to: "2050-01-01T00:00:00+0000"}
        extensions:
          - {id: basic_constraints, critical: true, value: {ca: true}}
          - id: key_usage
            critical: true
            smart-value: {schema: key-usage, params: [key_cert_sign, crl_sign]}
      signer:
        subject: signer
        issuer: root
        validity: {valid-from: "2020-01-01T00:00:00+0000", valid-to: "2050-01-01T00:00:00+0000"}
        extensions:
          - id: key_usage
            critical: true
            smart-value: {schema: key-usage, params: [digital_signature, non_repudiation]}
"""


@dataclasses.dataclass
class DummyCsc:
    base_url: str
    calls: Counter


@pytest.fixture(scope="module")
def csc_dummy(pki, tmp_path_factory) -> Iterator[DummyCsc]:
    """certomancer-csc-dummy (multisign 50, hash pinning required) on 127.0.0.1, in a thread
    with its own event loop, holding the test CA's and the person's keys."""
    try:
        from aiohttp import web
        from certomancer.registry import CertomancerConfig
        from csc_dummy.csc_dummy_server import CSCWithCertomancer, DummyServiceParams
    except ImportError:
        pytest.fail("certomancer-csc-dummy is missing: run `.venv/bin/pip install -e '.[test]'`")
    keys = tmp_path_factory.mktemp("certomancer")
    for name, key in (("root", pki.ca_key), ("signer", pki.person_key)):
        (keys / f"{name}.key.pem").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    config = CertomancerConfig.from_yaml(
        CERTOMANCER_CONFIG % {"school": PKI_SCHOOL, "person": PKI_PERSON},
        key_search_dir=str(keys),
    )
    csc = CSCWithCertomancer(
        config, service_params=DummyServiceParams(multisign=50, hash_pinning_required=True)
    )
    csc.register_routes()
    calls: Counter = Counter()

    @web.middleware
    async def count(request, handler):
        calls[request.path.removeprefix("/csc/v1/")] += 1
        return await handler(request)

    csc.app.middlewares.append(count)
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(csc.app)
    loop.run_until_complete(runner.setup())
    loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", 0).start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    port = runner.addresses[0][1]
    yield DummyCsc(f"http://127.0.0.1:{port}/csc/v1", calls)
    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=10)
    loop.close()


def dummy_source(settings, csc_dummy: DummyCsc):
    settings.SIGNING_SERVICES = {
        "certomancer": {"adapter": "csc", "label": "certomancer", "base_url": csc_dummy.base_url}
    }
    csc_dummy.calls.clear()
    return services.service("certomancer").source(account={"credential_id": "school/signer"})


def test_certomancer_csc_dummy_signs_a_batch_in_multisign_chunks(pki, settings, csc_dummy):
    source = dummy_source(settings, csc_dummy)
    assert source.certificate.public_key() == pki.person.public_key()
    assert len(source.chain) == 1  # certomancer's root
    outcome = source.request(DIGESTS, summary=SUMMARY, request_key="batch-1")
    assert_values_verify(source.certificate, DIGESTS, outcome.values)
    assert source.authorisations == 2 == csc_dummy.calls["credentials/authorize"]
    small = source.request(DIGESTS[:10], summary=SUMMARY, request_key="batch-2")
    assert_values_verify(source.certificate, DIGESTS[:10], small.values)
    assert source.authorisations == 3 == csc_dummy.calls["credentials/authorize"]


def test_pdfs_signed_through_certomancer_csc_dummy_validate(pki_pdf, settings, csc_dummy):
    signer = dummy_source(settings, csc_dummy).signer
    signed = sign_pdfs(
        [pki_pdf] * 3, signer, field_name="HieuTruong", reason="Ký học bạ", location="Hà Nội"
    )
    assert csc_dummy.calls["credentials/authorize"] == 1
    context = ValidationContext(trust_roots=[_to_asn1(signer.chain[-1])], allow_fetching=False)
    for pdf in signed:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        statuses = [validate_pdf_signature(s, context) for s in reader.embedded_signatures]
        assert [s.bottom_line for s in statuses] == [True]
