"""Signing fixtures (named pki_*): a throwaway CA with a person's and a school seal's RSA-2048
certificates, an NSS database trusting the CA (for pdfsig), a SoftHSM2 token holding the
person's key, and a small PDF."""

from __future__ import annotations

import dataclasses
import datetime
import io
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from transcripts.signing.formats import _to_asn1
from transcripts.signing.signers import Pkcs11Signer, Pkcs12Signer

PKI_PERSON = "Nguyễn Văn An"
PKI_SCHOOL = "Trường THCS Ánh Dương"
PKI_PASSWORD = "mat-khau-p12"
SOFTHSM_LIB = "/usr/lib/softhsm/libsofthsm2.so"
SOFTHSM_PIN = "246810"


def pki_make_cert(
    *,
    common_name: str,
    organisation: str | None = None,
    issuer: tuple[rsa.RSAPrivateKey, x509.Certificate] | None = None,
    ca: bool = False,
    key_usage: bool = True,
    not_before: datetime.datetime | None = None,
    not_after: datetime.datetime | None = None,
) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    now = datetime.datetime.now(datetime.UTC)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organisation:
        attributes.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation))
    subject = x509.Name(attributes)
    issuer_key, issuer_name = (issuer[0], issuer[1].subject) if issuer else (key, subject)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - datetime.timedelta(days=1))
        .not_valid_after(not_after or now + datetime.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
    )
    if issuer:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), False
        )
    if key_usage:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=not ca,
                content_commitment=not ca,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    return key, builder.sign(issuer_key, hashes.SHA256())


@dataclasses.dataclass
class Pki:
    dir: Path
    ca_key: rsa.RSAPrivateKey
    ca: x509.Certificate
    ca_pem: Path
    person_key: rsa.RSAPrivateKey
    person: x509.Certificate
    person_p12: bytes
    seal_key: rsa.RSAPrivateKey
    seal: x509.Certificate

    def issue(self, **kwargs) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
        return pki_make_cert(issuer=(self.ca_key, self.ca), **kwargs)


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="session")
def pki(tmp_path_factory) -> Pki:
    directory = tmp_path_factory.mktemp("pki")
    ca_key, ca = pki_make_cert(common_name="Test CA — Sổ điểm", ca=True)
    person_key, person = pki_make_cert(common_name=PKI_PERSON, issuer=(ca_key, ca))
    seal_key, seal = pki_make_cert(
        common_name=PKI_SCHOOL, organisation=PKI_SCHOOL, issuer=(ca_key, ca)
    )
    from cryptography.hazmat.primitives.serialization import pkcs12

    person_p12 = pkcs12.serialize_key_and_certificates(
        b"person",
        person_key,
        person,
        [ca],
        serialization.BestAvailableEncryption(PKI_PASSWORD.encode()),
    )
    ca_pem = directory / "ca.pem"
    ca_pem.write_bytes(_pem(ca))
    return Pki(directory, ca_key, ca, ca_pem, person_key, person, person_p12, seal_key, seal)


@pytest.fixture(scope="session")
def pki_person_signer(pki) -> Pkcs12Signer:
    return Pkcs12Signer.from_bytes(pki.person_p12, PKI_PASSWORD)


@pytest.fixture(scope="session")
def pki_seal_signer(pki) -> Pkcs12Signer:
    return Pkcs12Signer(pki.seal_key, pki.seal, [pki.ca])


def _require(tool: str, package: str, what: str | None = None) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(
            f"{what or tool} is missing: run `sudo scripts/system-deps.sh` "
            f"(apt-get install {package})"
        )
    return path


@pytest.fixture(scope="session")
def pki_nssdb(pki) -> str:
    """An NSS database trusting the CA, so that pdfsig says "Certificate is Trusted"."""
    certutil = _require("certutil", "libnss3-tools")
    nss = pki.dir / "nssdb"
    nss.mkdir()
    subprocess.run([certutil, "-N", "--empty-password", "-d", f"sql:{nss}"], check=True)
    subprocess.run(
        [certutil, "-A", "-n", "ca", "-t", "C,C,C", "-i", str(pki.ca_pem), "-d", f"sql:{nss}"],
        check=True,
    )
    return f"sql:{nss}"


@pytest.fixture(scope="session")
def pki_softhsm(pki) -> Callable[[], Pkcs11Signer]:
    """A SoftHSM2 token created for this test session with the person's key and certificate.
    Returns a factory of Pkcs11Signer (one PKCS#11 library per process: SOFTHSM2_CONF is set
    once, before the library is first loaded)."""
    import pkcs11
    from pkcs11 import Attribute, CertificateType, ObjectClass

    util = _require("softhsm2-util", "softhsm2", "SoftHSM2")
    if not Path(SOFTHSM_LIB).exists():
        pytest.fail(f"SoftHSM2 is missing: run `sudo scripts/system-deps.sh` (no {SOFTHSM_LIB})")
    tokens = pki.dir / "softhsm-tokens"
    tokens.mkdir()
    conf = pki.dir / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\n")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    subprocess.run(
        [util, "--init-token", "--free", "--label", "sodiem-test", "--pin", SOFTHSM_PIN,
         "--so-pin", "13579135"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    key_pem = pki.dir / "person-key.pem"
    key_pem.write_bytes(
        pki.person_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    subprocess.run(
        [util, "--import", str(key_pem), "--token", "sodiem-test", "--label", "person",
         "--id", "01", "--pin", SOFTHSM_PIN],
        check=True,
        capture_output=True,
    )  # fmt: skip
    key_pem.unlink()
    # softhsm2-util imports keys only; store the certificate next to the key through PKCS#11.
    token = pkcs11.lib(SOFTHSM_LIB).get_token(token_label="sodiem-test")
    with token.open(user_pin=SOFTHSM_PIN, rw=True) as session:
        session.create_object(
            {
                Attribute.CLASS: ObjectClass.CERTIFICATE,
                Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
                Attribute.TOKEN: True,
                Attribute.LABEL: "person",
                Attribute.ID: b"\x01",
                Attribute.SUBJECT: pki.person.subject.public_bytes(),
                Attribute.VALUE: pki.person.public_bytes(serialization.Encoding.DER),
            }
        )

    def make() -> Pkcs11Signer:
        return Pkcs11Signer(SOFTHSM_LIB, "sodiem-test", SOFTHSM_PIN, "person", chain=[pki.ca])

    return make


@pytest.fixture(scope="session")
def pki_pdf() -> bytes:
    from weasyprint import HTML

    return HTML(string="<p>Học bạ Nguyễn Văn An</p>").write_pdf()


def pyhanko_statuses(pdf: bytes, pki) -> list:
    context = ValidationContext(trust_roots=[_to_asn1(pki.ca)], allow_fetching=False)
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    return [validate_pdf_signature(sig, context) for sig in reader.embedded_signatures]
