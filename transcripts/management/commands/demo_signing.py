"""Give the demo's signers the ways Vietnamese schools really sign (demo and development only):

- the homeroom teacher of 6A1 (``gv.nv1``) signs through the test CSC service ("demo-csc"),
  with one authorisation per class;
- the principal (``hieutruong``) signs through the test phone-confirmation service
  ("demo-phone"): one confirmation on the "phone" page per batch;
- the school seal of the lower secondary school is a USB token: a SoftHSM2 token made here
  (``MEDIA_ROOT/demo-token/``) holding the seal's key, used through the signing companion.

Run after ``demo_pki`` (it reads the demo PKCS#12 files). Idempotent: a holder already set up
this way is left alone. ``make run`` runs it and starts the test services;
``make companion`` starts the signing companion with the demo token.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from schools.demo import SECONDARY_CODE
from schools.models import School
from transcripts.credentials import active_credential, register_credential
from transcripts.models import CredentialKind

SOFTHSM_LIB = "/usr/lib/softhsm/libsofthsm2.so"
TOKEN_LABEL = "sodiem-demo-seal"  # noqa: S105 - a token's name, not a secret
#: Remote signers of the demo: username → (service, account).
REMOTE = {
    "gv.nv1": ("demo-csc", {"credential_id": "gv.nv1"}),
    "hieutruong": ("demo-phone", {"user_id": "hieutruong"}),
}


class Command(BaseCommand):
    help = (
        "Demo only: gv.nv1 signs through the test CSC service, hieutruong through the test "
        "phone-confirmation service, and the school seal is a SoftHSM2 USB token used through "
        "the signing companion."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--password", default="demo-ky-so", help="The demo PKI's password")
        parser.add_argument("--pin", default="demo-ky-so", help="The demo token's PIN")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("demo_signing is for the demo and development only (DEBUG=1).")
        school = School.objects.filter(code=SECONDARY_CODE).first()
        if school is None:
            raise CommandError("Run manage.py seed_demo first.")
        pki = Path(settings.MEDIA_ROOT) / "demo-pki"
        for username, (service, account) in REMOTE.items():
            user = User.objects.get(username=username)
            chain = self._chain(pki / f"{school.code}-{username}.p12", options["password"])
            config = {"service": service, **account}
            current = active_credential(school=school, user=user)
            if current and current.kind == CredentialKind.REMOTE and current.config == config:
                continue
            register_credential(
                school=school, user=user, kind=CredentialKind.REMOTE, created_by=user,
                certificates=chain, config=config,
            )  # fmt: skip
            self.stdout.write(f"{username} signs through {service}")
        seal_file = pki / f"{school.code}-seal.p12"
        conf = self._token(seal_file, options["password"], options["pin"])
        current = active_credential(school=school, user=None)
        if current is None or current.kind != CredentialKind.COMPANION:
            register_credential(
                school=school, user=None, kind=CredentialKind.COMPANION,
                created_by=User.objects.get(username="hieutruong"),
                certificates=self._chain(seal_file, options["password"]),
            )  # fmt: skip
            self.stdout.write("the school seal is the demo USB token (signing companion)")
        self.stdout.write(f"Demo USB token: SOFTHSM2_CONF={conf}, PIN {options['pin']}")

    def _chain(self, path: Path, password: str) -> list:
        if not path.exists():
            raise CommandError(f"{path} is missing: run manage.py demo_pki first.")
        _key, cert, chain = pkcs12.load_key_and_certificates(path.read_bytes(), password.encode())
        return [cert, *chain]

    def _token(self, seal_file: Path, password: str, pin: str) -> Path:
        """A SoftHSM2 token holding the seal's key and certificate (made once)."""
        directory = Path(settings.MEDIA_ROOT) / "demo-token"
        conf = directory / "softhsm2.conf"
        if conf.exists():
            return conf
        util = shutil.which("softhsm2-util")
        if util is None or not Path(SOFTHSM_LIB).exists():
            raise CommandError("SoftHSM2 is missing: run scripts/system-deps.sh")
        tokens = directory / "tokens"
        tokens.mkdir(parents=True)
        conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\n")
        env = {**os.environ, "SOFTHSM2_CONF": str(conf)}
        key, cert, _chain = pkcs12.load_key_and_certificates(
            seal_file.read_bytes(), password.encode()
        )
        if key is None or cert is None:
            raise CommandError(f"{seal_file} holds no key and certificate: run demo_pki again")
        key_pem = directory / "seal-key.pem"
        key_pem.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        key_pem.chmod(0o600)
        try:
            for command in (
                [util, "--init-token", "--free", "--label", TOKEN_LABEL, "--pin", pin,
                 "--so-pin", pin + "-so"],
                [util, "--import", str(key_pem), "--token", TOKEN_LABEL, "--label", "seal",
                 "--id", "01", "--pin", pin],
            ):  # fmt: skip
                subprocess.run(command, check=True, capture_output=True, env=env)  # noqa: S603
        finally:
            key_pem.unlink()
        # softhsm2-util imports keys only: the certificate goes next to the key over PKCS#11,
        # in a child process (the library reads SOFTHSM2_CONF once per process).
        cert_der = directory / "seal.der"
        cert_der.write_bytes(cert.public_bytes(serialization.Encoding.DER))
        subprocess.run(  # noqa: S603
            [sys.executable, "-c", _STORE_CERTIFICATE, SOFTHSM_LIB, TOKEN_LABEL, pin,
             str(cert_der)],
            check=True, capture_output=True, env=env,
        )  # fmt: skip
        cert_der.unlink()
        self.stdout.write(f"created the demo USB token {TOKEN_LABEL} in {directory}")
        return conf


_STORE_CERTIFICATE = """
import sys, pkcs11
from cryptography import x509
from pkcs11 import Attribute, CertificateType, ObjectClass
lib, label, pin, path = sys.argv[1:]
cert = x509.load_der_x509_certificate(open(path, "rb").read())
token = pkcs11.lib(lib).get_token(token_label=label)
with token.open(user_pin=pin, rw=True) as session:
    session.create_object({
        Attribute.CLASS: ObjectClass.CERTIFICATE,
        Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
        Attribute.TOKEN: True,
        Attribute.LABEL: "seal",
        Attribute.ID: b"\\x01",
        Attribute.SUBJECT: cert.subject.public_bytes(),
        Attribute.VALUE: open(path, "rb").read(),
    })
"""
