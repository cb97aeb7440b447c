"""Signing companion fixtures: a SoftHSM2 token created in a temporary directory (a CA-issued
RSA-2048 certificate and its key, both under CKA_ID 0a; a second key whose certificate carries
another CKA_ID, so that only its modulus finds it), and the companion answering on an
ephemeral port of 127.0.0.1 in a thread of this process, driven over the real socket."""

from __future__ import annotations

import base64
import dataclasses
import datetime
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

COMPANION_DIR = Path(__file__).resolve().parents[2] / "signer-companion"
sys.path.insert(0, str(COMPANION_DIR))

from sodiem_companion.config import Config  # noqa: E402
from sodiem_companion.server import CompanionServer, create_server  # noqa: E402

SOFTHSM_LIB = "/usr/lib/softhsm/libsofthsm2.so"
TOKEN_LABEL = "companion-test"
PIN = "739154"
SO_PIN = "86420864"
SITE = "http://school.example:8000"
OTHER_SITE = "https://other-school.example"
EVIL = "https://evil.example"
HOLDER = "Trần Thị Bình"
SCHOOL = "Trường THCS Ánh Dương"


def make_certificate(
    *, common_name: str, key: rsa.RSAPrivateKey, issuer: tuple[rsa.RSAPrivateKey, x509.Name]
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, SCHOOL),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer[1])
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(issuer[0], hashes.SHA256())
    )


@dataclasses.dataclass
class Hsm:
    dir: Path
    certificate: x509.Certificate
    by_modulus: x509.Certificate
    """Its key is on the token under another CKA_ID than the certificate's."""

    @property
    def sha256(self) -> str:
        return sha256_hex(self.certificate)


def sha256_hex(certificate: x509.Certificate) -> str:
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest()


def _require_softhsm() -> str:
    util = shutil.which("softhsm2-util")
    if util is None or not Path(SOFTHSM_LIB).exists():
        pytest.fail(
            "SoftHSM2 is missing: run `sudo apt-get install softhsm2` "
            "(or `sudo scripts/system-deps.sh`)",
            pytrace=False,
        )
    return util


def _import_key(util: str, directory: Path, key: rsa.RSAPrivateKey, label: str, key_id: str):
    pem = directory / f"{label}.pem"
    pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    subprocess.run(
        [util, "--import", str(pem), "--token", TOKEN_LABEL, "--label", label,
         "--id", key_id, "--pin", PIN],
        check=True,
        capture_output=True,
    )  # fmt: skip
    pem.unlink()


def _store_certificate(session, certificate: x509.Certificate, label: str, key_id: bytes) -> None:
    from pkcs11 import Attribute, CertificateType, ObjectClass

    session.create_object(
        {
            Attribute.CLASS: ObjectClass.CERTIFICATE,
            Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
            Attribute.TOKEN: True,
            Attribute.PRIVATE: False,  # readable without the PIN, as on real tokens
            Attribute.LABEL: label,
            Attribute.ID: key_id,
            Attribute.SUBJECT: certificate.subject.public_bytes(),
            Attribute.VALUE: certificate.public_bytes(serialization.Encoding.DER),
        }
    )


@pytest.fixture(scope="module")
def hsm(tmp_path_factory) -> Iterator[Hsm]:
    """A SoftHSM2 token for this module's tests. SOFTHSM2_CONF points at it only while the
    module runs, and the library is left finalized, so that the next user of SoftHSM2 in this
    process (the transcripts tests) initialises it with its own configuration."""
    import pkcs11

    util = _require_softhsm()
    directory = tmp_path_factory.mktemp("companion-hsm")
    (directory / "tokens").mkdir()
    conf = directory / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {directory / 'tokens'}\nobjectstore.backend = file\n")
    previous = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    pkcs11.lib(SOFTHSM_LIB).finalize()  # forget a configuration read earlier in this process
    try:
        subprocess.run(
            [util, "--init-token", "--free", "--label", TOKEN_LABEL, "--pin", PIN,
             "--so-pin", SO_PIN],
            check=True,
            capture_output=True,
        )  # fmt: skip
        ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Companion test CA")])
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        certificate = make_certificate(common_name=HOLDER, key=key, issuer=(ca_key, ca_name))
        other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        by_modulus = make_certificate(
            common_name="Hiệu trưởng", key=other_key, issuer=(ca_key, ca_name)
        )
        _import_key(util, directory, key, "holder", "0a")
        _import_key(util, directory, other_key, "principal", "0b")
        token = pkcs11.lib(SOFTHSM_LIB).get_token(token_label=TOKEN_LABEL)
        with token.open(user_pin=PIN, rw=True) as session:
            _store_certificate(session, certificate, "holder", b"\x0a")
            _store_certificate(session, by_modulus, "principal", b"\xcc")
        pkcs11.lib(SOFTHSM_LIB).finalize()
        yield Hsm(directory, certificate, by_modulus)
    finally:
        pkcs11.lib(SOFTHSM_LIB).finalize()
        if previous is None:
            os.environ.pop("SOFTHSM2_CONF", None)
        else:
            os.environ["SOFTHSM2_CONF"] = previous


class Clock:
    """Monotonic time that a test can move forward (expiry after 5 and 10 minutes)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def state_dir(tmp_path) -> Path:
    return tmp_path / "state"


def start(config: Config, clock: Clock | None = None) -> CompanionServer:
    server = create_server(config, **({"clock": clock} if clock else {}))
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server


def stop(server: CompanionServer) -> None:
    server.shutdown()
    server.server_close()


def make_config(state_dir: Path, **overrides) -> Config:
    values = {
        "sites": (SITE, OTHER_SITE),
        "lib": SOFTHSM_LIB,
        "port": 0,
        "state_dir": state_dir,
        "open_browser": False,
    } | overrides
    return Config(**values)


@pytest.fixture
def companion(hsm, state_dir, clock) -> Iterator[CompanionServer]:
    server = start(make_config(state_dir), clock)
    yield server
    stop(server)


# --- Talking to it over HTTP -----------------------------------------------------------------


@dataclasses.dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)
TRANSCRIPT = []  # every answer of the current test, to look for a PIN in


def call(
    server: CompanionServer,
    method: str,
    path: str,
    *,
    origin: str | None = SITE,
    token: str | None = None,
    body: object = None,
    data: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    all_headers = dict(headers or {})
    if origin is not None:
        all_headers["Origin"] = origin
    if token is not None:
        all_headers["Authorization"] = f"Bearer {token}"
    if body is not None:
        data = json.dumps(body).encode()
        all_headers.setdefault("Content-Type", "application/json")
    request = urllib.request.Request(  # noqa: S310 - always http://127.0.0.1
        server.url + path, data=data, headers=all_headers, method=method
    )
    try:
        with _OPENER.open(request, timeout=30) as response:
            answer = Answer(response.status, dict(response.headers.items()), response.read())
    except urllib.error.HTTPError as error:
        answer = Answer(error.code, dict(error.headers.items()), error.read())
    TRANSCRIPT.append(answer)
    return answer


def page(server: CompanionServer) -> str:
    answer = call(server, "GET", "/", origin=None)
    assert answer.status == 200
    return answer.text


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html)[1]


def ui_post(server: CompanionServer, path: str, fields: dict[str, str], *, csrf: str | None = None):
    """A form on the companion's own page, submitted as its browser does."""
    fields = {"csrf": csrf if csrf is not None else csrf_of(page(server))} | fields
    return call(
        server,
        "POST",
        path,
        origin=server.url,
        data=urllib.parse.urlencode(fields).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


def start_pairing(server: CompanionServer, code: str = "K7WX3PQM", origin: str = SITE) -> str:
    answer = call(server, "POST", "/v1/pair", origin=origin, body={"code": code})
    assert answer.status == 201, answer.text
    return answer.json()["pairing_id"]


def pair(server: CompanionServer, origin: str = SITE) -> str:
    """Pair like a person does: the page's code typed into the companion's page."""
    pairing_id = start_pairing(server, "K7WX3PQM", origin)
    assert ui_post(server, f"/ui/pair/{pairing_id}", {"code": "k7wx-3pqm"}).status == 303
    answer = call(server, "GET", f"/v1/pair/{pairing_id}", origin=origin)
    assert answer.json()["status"] == "paired"
    return answer.json()["token"]


def digests(count: int) -> list[bytes]:
    return [hashlib.sha256(f"học bạ {n}".encode()).digest() for n in range(count)]


def b64(values: list[bytes]) -> list[str]:
    return [base64.b64encode(v).decode() for v in values]


def summary(documents: int = 90) -> dict[str, object]:
    return {
        "school": SCHOOL,
        "role": "Giáo viên chủ nhiệm",
        "signer": HOLDER,
        "transcripts": documents // 2,
        "documents": documents,
        "class_names": ["9A1"],
    }


def submit(
    server: CompanionServer, token: str, certificate_sha256: str, values: list[bytes]
) -> str:
    answer = call(
        server,
        "POST",
        "/v1/sign",
        token=token,
        body={
            "certificate_sha256": certificate_sha256,
            "algorithm": "sha256",
            "digests": b64(values),
            "summary": summary(len(values)),
        },
    )
    assert answer.status == 202, answer.text
    return answer.json()["request_id"]


def wait_signed(server: CompanionServer, token: str, request_id: str) -> dict:
    """Poll like the page does, until the batch is no longer being signed."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        state = call(server, "GET", f"/v1/sign/{request_id}", token=token).json()
        if state["status"] != "pending":
            return state
        time.sleep(0.1)
    raise AssertionError(f"still pending: {state}")
