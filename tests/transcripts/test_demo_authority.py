"""The demo certification authority's services (`manage.py signing_test_services`): an RFC 3161
time-stamping authority and the CA's revocation list over a real socket, and `demo_pki`'s
time-stamping certificate and CRL distribution points."""

from __future__ import annotations

import datetime
import urllib.request

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID
from pyhanko.sign.timestamps import HTTPTimeStamper

from transcripts.signing.demo import DEMO_CRL_URL, create_ca, issue_certificate
from transcripts.signing.demo_services import DemoCaServer
from transcripts.signing.pki import run_coroutine


@pytest.fixture(scope="module")
def authority():
    ca_key, ca = create_ca()
    tsa_key, tsa = issue_certificate(ca_key, ca, common_name="TSA", time_stamping=True)
    with DemoCaServer(ca_key=ca_key, ca_cert=ca, tsa_key=tsa_key, tsa_cert=tsa) as server:
        yield server, ca_key, ca, tsa


def test_the_time_stamping_authority_answers_rfc_3161(authority):
    server, _ca_key, _ca, tsa = authority
    digest = bytes(range(32))
    token = run_coroutine(HTTPTimeStamper(server.tsa_url).async_timestamp(digest, "sha256"))
    info = token["content"]["encap_content_info"]["content"].parsed
    assert bytes(info["message_imprint"]["hashed_message"]) == digest
    signer = token["content"]["signer_infos"][0]["sid"].chosen
    assert signer["serial_number"].native == tsa.serial_number
    assert server.calls["timestamp"] == 1


def test_the_crl_is_signed_by_the_ca_and_lists_what_is_revoked(authority):
    server, _ca_key, ca, tsa = authority
    server.revoked[tsa.serial_number] = datetime.datetime(2026, 1, 2, tzinfo=datetime.UTC)
    with urllib.request.urlopen(server.crl_url, timeout=5) as response:  # noqa: S310 - local
        assert response.headers["Content-Type"] == "application/pkix-crl"
        crl = x509.load_der_x509_crl(response.read())
    assert crl.is_signature_valid(ca.public_key())
    assert crl.get_revoked_certificate_by_serial_number(tsa.serial_number) is not None
    assert crl.next_update_utc > datetime.datetime.now(datetime.UTC)


def test_demo_pki_issues_a_time_stamping_certificate_and_crl_points(tmp_path, class_a):
    from django.core.management import call_command

    call_command("demo_pki", "--out", str(tmp_path), "--password", "pw", "--school", "SCHOOLA")
    _key, tsa, _chain = pkcs12.load_key_and_certificates(
        (tmp_path / "demo-tsa.p12").read_bytes(), b"pw"
    )
    usage = tsa.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert usage.critical and list(usage.value) == [ExtendedKeyUsageOID.TIME_STAMPING]
    # A validator checks the time-stamping authority's certificate too (pyHanko with
    # --force-revinfo refused the homeroom teacher's signature time-stamp without it).
    points = tsa.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert points[0].full_name[0].value == DEMO_CRL_URL
    seal = next(tmp_path.glob("SCHOOLA-seal.p12"))
    _key, cert, _chain = pkcs12.load_key_and_certificates(seal.read_bytes(), b"pw")
    points = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert points[0].full_name[0].value == DEMO_CRL_URL
