"""Signing fixtures (named pki_*): a throwaway CA with a person's and a school seal's RSA-2048
certificates, an NSS database trusting the CA (for pdfsig), a SoftHSM2 token holding the
person's key, and a small PDF."""

from __future__ import annotations

import dataclasses
import datetime
import io
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from django.core.management import call_command
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from tests.gradebook.marks import all_scored, homeroom_marks, year_of
from transcripts.models import CredentialKind, SignerRole, SigningCredential
from transcripts.pipeline import sign_version
from transcripts.signing.formats import DS_NS, XADES_NS, _to_asn1, xml_signature_count
from transcripts.signing.signers import Pkcs11Signer, Pkcs12Signer, encrypt_at_rest
from transcripts.workflow import transcript_for
from transcripts.xml import NAMESPACE, validate_xml

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


# --- Shared by the pipeline, command and verification tests ---------------------------------

P12_PASSWORD = "mat-khau-ky-so"


def make_p12(pki, *, common_name: str, organisation: str | None = None) -> bytes:
    """A PKCS#12 (password P12_PASSWORD) issued by the test CA."""
    key, cert = pki.issue(common_name=common_name, organisation=organisation)
    return pkcs12.serialize_key_and_certificates(
        common_name.encode(),
        key,
        cert,
        [pki.ca],
        serialization.BestAvailableEncryption(P12_PASSWORD.encode()),
    )


@pytest.fixture(scope="session")
def role_p12(pki) -> dict[str, bytes]:
    """PKCS#12 files whose holders are the test personas (CN = display name) and the seal of
    school A (O = its name)."""
    return {
        SignerRole.HOMEROOM: make_p12(pki, common_name="homeroom"),
        SignerRole.PRINCIPAL: make_p12(pki, common_name="principal"),
        SignerRole.SEAL: make_p12(
            pki, common_name="Trường THCS Ánh Dương", organisation="Trường THCS Ánh Dương"
        ),
    }


@pytest.fixture(scope="session")
def role_signers(role_p12) -> dict[str, Pkcs12Signer]:
    return {role: Pkcs12Signer.from_bytes(data, P12_PASSWORD) for role, data in role_p12.items()}


@pytest.fixture
def credentials(school_a, homeroom, principal, role_p12):
    """The personas' PKCS#12 files (password P12_PASSWORD) registered as their signing
    credentials at school A, and the school seal's (no user)."""
    owners = {SignerRole.HOMEROOM: homeroom, SignerRole.PRINCIPAL: principal, SignerRole.SEAL: None}
    for role, user in owners.items():
        SigningCredential.objects.create(
            school=school_a,
            user=user,
            kind=CredentialKind.PKCS12,
            pkcs12_encrypted=encrypt_at_rest(role_p12[role]),
        )


@pytest.fixture
def signing_setup(settings, pki, tmp_path):
    settings.SIGNING_TRUST_ANCHORS = [str(pki.ca_pem)]
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.SITE_URL = "https://hocba.example"


def complete_year(class_group, student) -> None:
    year_of(class_group, student, all_scored("8"))
    homeroom_marks(student, conduct=("T", "T"))


@pytest.fixture
def pupil(class_a):
    return class_a.enrollments.order_by("roll_number").first().student


@pytest.fixture
def transcript(signing_setup, class_a, pupil):
    complete_year(class_a, pupil)
    return transcript_for(student=pupil, class_group=class_a)


def actors(homeroom, principal) -> dict[str, object]:
    return {
        SignerRole.HOMEROOM: homeroom,
        SignerRole.PRINCIPAL: principal,
        SignerRole.SEAL: principal,
    }


def sign_all(transcript, homeroom, principal, role_signers) -> None:
    for role, actor in actors(homeroom, principal).items():
        sign_version(actor=actor, transcript=transcript, role=role, signer=role_signers[role])


def stored(field) -> bytes:
    with field.open("rb") as handle:
        return handle.read()


def pdfsig(pdf: bytes, nssdb: str, tmp_path: Path) -> str:
    path = tmp_path / "check.pdf"
    path.write_bytes(pdf)
    run = subprocess.run(
        ["pdfsig", "-nssdir", nssdb, str(path)], capture_output=True, text=True, check=False
    )
    return run.stdout + run.stderr


def assert_pdf_signatures(pdf: bytes, count: int, nssdb: str, tmp_path: Path) -> None:
    report = pdfsig(pdf, nssdb, tmp_path)
    fields = len(re.findall(r"^Signature #\d+:", report, re.M))
    # a rendered transcript has its three fields before they are signed (issue 14)
    empty = report.count("The signature form field is not signed.")
    assert fields - empty == count, report
    assert report.count("Signature is Valid.") == count, report
    assert report.count("Certificate is Trusted.") == count, report


def xmlsec_verify(xml: bytes, index: int, ca_pem: Path, tmp_path: Path):
    path = tmp_path / "check.xml"
    path.write_bytes(xml)
    xpath = f"(//*[local-name()='Signature' and namespace-uri()='{DS_NS}'])[{index}]"
    return subprocess.run(
        ["xmlsec1", "--verify", "--trusted-pem", str(ca_pem),
         "--id-attr:Id", f"{NAMESPACE}:hocBa",
         "--id-attr:Id", f"{XADES_NS}:SignedProperties",
         "--id-attr:Id", f"{DS_NS}:KeyInfo",
         "--node-xpath", xpath, str(path)],
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip


def assert_xml_signatures(xml: bytes, count: int, ca_pem: Path, tmp_path: Path) -> None:
    validate_xml(xml)
    assert xml_signature_count(xml) == count
    for index in range(1, count + 1):
        run = xmlsec_verify(xml, index, ca_pem, tmp_path)
        assert run.returncode == 0, run.stderr
        assert "SignedInfo References (ok/all): 3/3" in run.stderr


# --- Background jobs on a real task backend ---------------------------------------------------

#: The job tests' Redis database: 15 for a single process, 15, 14, 13 or 12 for the processes
#: of `make test` (pytest-xdist's gw0..gw3), so that no two take each other's jobs.
REDIS_TEST_URL = "redis://127.0.0.1:6379/{}".format(
    15 - int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))
)


@pytest.fixture(params=["db", "rq"])
def backend(request, settings, monkeypatch):
    """The task backend under test, and a function that runs its worker until the queue is
    empty."""
    if request.param == "db":
        settings.TASKS = {
            "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
        }

        # The worker runs inside the test's transaction: its periodic close_old_connections()
        # would close that connection (it closes one not in autocommit mode) on PostgreSQL.
        monkeypatch.setattr(
            "django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None
        )

        def work() -> None:
            call_command("db_worker", batch=True, no_startup_delay=True, interval=0, verbosity=0)

    else:
        import django_rq
        import redis
        from rq.worker import SimpleWorker

        settings.RQ_QUEUES = {"default": {"URL": REDIS_TEST_URL, "DEFAULT_TIMEOUT": 600}}
        settings.TASKS = {
            "default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}
        }
        try:
            redis.Redis.from_url(REDIS_TEST_URL).ping()
        except redis.exceptions.ConnectionError:
            pytest.fail(
                "Redis is not running on 127.0.0.1:6379: apt-get install redis-server "
                "&& service redis-server start"
            )
        django_rq.get_queue("default").empty()

        def work() -> None:
            from django_tasks_rq.backend import Job

            queue = django_rq.get_queue("default", job_class=Job)
            SimpleWorker([queue], connection=queue.connection, job_class=Job).work(burst=True)

    return work


# --- Final transcripts and packages ---------------------------------------------------------


def finalise(transcript, homeroom, principal, role_signers) -> None:
    """Confirm, sign (homeroom teacher, principal) and seal a complete transcript."""
    from transcripts.workflow import confirm_ready

    confirm_ready(actor=homeroom, transcript=transcript)
    sign_all(transcript, homeroom, principal, role_signers)


@pytest.fixture
def final_class(signing_setup, credentials, class_a, homeroom, principal, role_signers):
    """Every student of class 6A1 with a complete year and a final (sealed) transcript."""
    transcripts = []
    for enrollment in class_a.enrollments.order_by("roll_number"):
        complete_year(class_a, enrollment.student)
        transcript = transcript_for(student=enrollment.student, class_group=class_a)
        finalise(transcript, homeroom, principal, role_signers)
        transcripts.append(transcript)
    return transcripts


def export_now(actor, school, *, kind="full", **options):
    """Start an export and run the worker's side in this process; the package, refreshed."""
    from transcripts.packages.exports import run_export, start_export

    package = start_export(
        actor=actor,
        school=school,
        year=school.current_year(),
        kind=kind,
        secret=P12_PASSWORD,
        enqueue=False,
        **options,
    )
    run_export(package.pk)
    package.refresh_from_db()
    return package
