"""A throwaway certification authority for demos and development. Never for real documents: the
CA's name says so, and SIGNING_TRUST_ANCHORS must not list it in production."""

from __future__ import annotations

import datetime
import os
from collections.abc import Sequence
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DEMO_CA_NAME = "Sổ điểm DEMO CA — không dùng thật"
DEMO_TSA_NAME = "Sổ điểm DEMO TSA — không dùng thật"
#: Where `manage.py signing_test_services` serves the demo CA's time-stamps and CRL (make run).
DEMO_CA_SERVICE = "http://127.0.0.1:8783"
DEMO_TSA_URL = f"{DEMO_CA_SERVICE}/tsa"
DEMO_CRL_URL = f"{DEMO_CA_SERVICE}/crl/demo-ca.crl"


def private_directory(path: Path) -> None:
    """Create ``path`` (and its parents) for private keys: its owner only may list or enter
    it (0700). An existing directory is tightened to that."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)


def write_private(path: Path, data: bytes) -> None:
    """Write a file holding a private key, readable and writable by its owner only (0600)
    from its first byte: never written open and tightened afterwards."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        os.fchmod(file.fileno(), 0o600)  # an existing file keeps its mode through O_CREAT
        file.write(data)


def tighten_private(path: Path) -> None:
    """An existing private key file (an earlier run's) made readable by its owner only."""
    if path.exists():
        path.chmod(0o600)


def _name(common_name: str, organisation: str | None = None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COUNTRY_NAME, "VN")]
    if organisation:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not ca,
        content_commitment=not ca,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def create_ca(
    *, name: str = DEMO_CA_NAME, days: int = 3650, now: datetime.datetime | None = None
) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    now = now or datetime.datetime.now(datetime.UTC)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = _name(name, "Sổ điểm DEMO")
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _rsa_public(certificate: x509.Certificate) -> rsa.RSAPublicKey:
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("The demo CA's key is not RSA")
    return key


def issue_certificate(
    ca_key: rsa.RSAPrivateKey,
    ca_cert: x509.Certificate,
    *,
    common_name: str,
    organisation: str | None = None,
    days: int = 3 * 365,
    now: datetime.datetime | None = None,
    crl_url: str | None = None,
    time_stamping: bool = False,
) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """An RSA-2048 signing certificate: CN is the person's full name (or the school's name for
    the seal, with O = the school's name too). ``crl_url``: where its revocation list is (the
    CRL distribution point a validator fetches); ``time_stamping``: a time-stamping authority's
    certificate (extended key usage timeStamping only, critical, as RFC 3161 requires)."""
    now = now or datetime.datetime.now(datetime.UTC)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name, organisation))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(ca=False), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING])
            if time_stamping
            else x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.EMAIL_PROTECTION, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=time_stamping,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(_rsa_public(ca_cert)),
            critical=False,
        )
    )
    if crl_url:
        point = x509.DistributionPoint([x509.UniformResourceIdentifier(crl_url)], None, None, None)
        builder = builder.add_extension(x509.CRLDistributionPoints([point]), critical=False)
    return key, builder.sign(ca_key, hashes.SHA256())


def certificate_revocation_list(
    ca_key: rsa.RSAPrivateKey,
    ca_cert: x509.Certificate,
    *,
    revoked: Sequence[tuple[int, datetime.datetime]] = (),
    now: datetime.datetime | None = None,
) -> bytes:
    """The demo CA's CRL (DER), valid for a day from ``now``: ``revoked`` = (serial, when)."""
    now = now or datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca_cert.subject)
        .last_update(now - datetime.timedelta(minutes=5))
        .next_update(now + datetime.timedelta(days=1))
    )
    for serial, when in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when).build()
        )
    return builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def pkcs12_bytes(
    key: rsa.RSAPrivateKey,
    cert: x509.Certificate,
    chain: Sequence[x509.Certificate],
    *,
    friendly_name: str,
    password: str,
) -> bytes:
    """A PKCS#12 file encrypted with AES-256 (PBESv2), readable by OpenSSL 3 and browsers."""
    return pkcs12.serialize_key_and_certificates(
        friendly_name.encode(),
        key,
        cert,
        list(chain),
        serialization.BestAvailableEncryption(password.encode()),
    )
