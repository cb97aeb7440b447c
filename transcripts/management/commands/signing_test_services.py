"""Run test remote-signing services for the demo and development — never in production.

    DEBUG=1 python manage.py signing_test_services [--csc-port 8781] [--confirm-port 8782] \\
        [--password demo-ky-so] [--pin PIN] [--dir DIR] [--write-config signing-services.json]

Starts, on 127.0.0.1, a CSC v2 service and a "confirm on your phone" service (Sổ điểm remote
confirmation protocol v1) holding the keys of the demo PKI's people (``manage.py demo_pki``:
``MEDIA_ROOT/demo-pki/<school>-<username>.p12``, opened with ``--password``). Each person is a
CSC credential and a phone user whose ID is the username; the CSC PIN is ``--pin`` (default:
the PKCS#12 password). ``--write-config`` writes (or updates) the SIGNING_SERVICES JSON file
with "demo-csc" and "demo-phone"; their token and API key are kept from an earlier file, so a
running web server stays in step. The phone page of each user is printed. Ctrl-C stops.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import threading
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from transcripts.management.commands.demo_pki import TSA_FILE
from transcripts.signing.demo_services import ConfirmServer, CscServer, DemoCaServer, KeyAndChain

CSC_NAME, PHONE_NAME = "demo-csc", "demo-phone"
CSC_LABEL = "Dịch vụ ký số từ xa CSC (THỬ NGHIỆM, không dùng cho hồ sơ thật)"
PHONE_LABEL = "Ký số xác nhận trên điện thoại (THỬ NGHIỆM, không dùng cho hồ sơ thật)"


def load_people(directory: Path, password: str) -> tuple[dict[str, KeyAndChain], list[str]]:
    """user id (the username part of ``<school>-<username>.p12``) → key and chain, for every
    person's PKCS#12 in ``directory`` (school seals are left out), and warnings."""
    people: dict[str, KeyAndChain] = {}
    warnings: list[str] = []
    for path in sorted(directory.glob("*.p12")):
        _school, _sep, username = path.stem.partition("-")
        if not username or username == "seal" or path.name.startswith("demo-"):
            continue  # the seals, and the demo CA's own (its time-stamping authority)
        if username in people:
            warnings.append(f"skipped {path.name}: user {username} already has a file")
            continue
        try:
            key, cert, chain = pkcs12.load_key_and_certificates(
                path.read_bytes(), password.encode()
            )
        except ValueError:
            warnings.append(f"skipped {path.name}: wrong --password")
            continue
        if not isinstance(key, rsa.RSAPrivateKey) or cert is None:
            warnings.append(f"skipped {path.name}: no RSA key and certificate")
            continue
        people[username] = (key, [cert, *chain])
    return people, warnings


def services_config(
    *, csc: CscServer, phone: ConfirmServer, previous: dict[str, Any] | None = None
) -> dict[str, Any]:
    """SIGNING_SERVICES with both test services added to ``previous``."""
    return dict(previous or {}) | {
        CSC_NAME: {
            "adapter": "csc",
            "label": CSC_LABEL,
            "base_url": csc.base_url,
            "api_version": csc.api_version,
            "token": csc.token,
        },
        PHONE_NAME: {
            "adapter": "confirm-v1",
            "label": PHONE_LABEL,
            "base_url": phone.base_url,
            "api_key": phone.api_key,
        },
    }


def read_config(path: Path | None) -> dict[str, Any]:
    if path is None or not path.exists():
        return {}
    try:
        config = json.loads(path.read_text())
    except ValueError as exc:
        raise CommandError(f"{path} is not a JSON file") from exc
    if not isinstance(config, dict):
        raise CommandError(f"{path} does not hold a JSON object")
    return config


class Command(BaseCommand):
    help = (
        "Run a test CSC service and a test 'confirm on your phone' signing service with the "
        "demo PKI's keys (DEBUG only; never for real documents)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--csc-port", type=int, default=8781)
        parser.add_argument("--confirm-port", type=int, default=8782)
        parser.add_argument(
            "--ca-port", type=int, default=8783, help="The demo CA's time-stamps and CRL"
        )
        parser.add_argument("--password", default="demo-ky-so", help="The PKCS#12 password")
        parser.add_argument("--pin", help="The CSC credentials' PIN (default: --password)")
        parser.add_argument("--multisign", type=int, default=100, help="CSC signatures per SAD")
        parser.add_argument("--dir", type=Path, help="PKCS#12 files (default MEDIA_ROOT/demo-pki)")
        parser.add_argument("--write-config", type=Path, help="SIGNING_SERVICES JSON to write")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError(
                _(
                    "The test signing services run only in development (DEBUG=1), never in "
                    "production."
                )
            )
        directory = options["dir"] or Path(settings.MEDIA_ROOT) / "demo-pki"
        people, warnings = load_people(directory, options["password"])
        for warning in warnings:
            self.stdout.write(self.style.WARNING(warning))
        if not people:
            raise CommandError(
                _("No PKCS#12 file of a person in %(dir)s: run manage.py demo_pki first.")
                % {"dir": directory}
            )
        config_path = options["write_config"]
        previous = read_config(config_path)
        csc, phone = self._servers(people, previous, options)
        authority = self._authority(directory, options)
        with csc, phone, authority or contextlib.nullcontext():
            config = services_config(csc=csc, phone=phone, previous=previous)
            if config_path is not None:
                config_path.write_text(json.dumps(config, ensure_ascii=False, indent=2) + "\n")
                self.stdout.write(f"SIGNING_SERVICES written to {config_path}")
            self._describe(csc, phone, people, pin=options["pin"] or options["password"])
            if authority is not None:
                self.stdout.write(
                    f"Demo CA: time-stamps at {authority.tsa_url}, CRL at {authority.crl_url}"
                )
            try:
                threading.Event().wait()
            except KeyboardInterrupt:
                self.stdout.write("stopped")

    def _servers(
        self, people: dict[str, KeyAndChain], previous: dict[str, Any], options: dict[str, Any]
    ) -> tuple[CscServer, ConfirmServer]:
        pin = options["pin"] or options["password"]
        token = (previous.get(CSC_NAME) or {}).get("token") or secrets.token_urlsafe(24)
        api_key = (previous.get(PHONE_NAME) or {}).get("api_key") or secrets.token_urlsafe(24)
        try:
            csc = CscServer(
                credentials={uid: (key, chain, pin) for uid, (key, chain) in people.items()},
                token=token,
                multisign=options["multisign"],
                port=options["csc_port"],
            )
            phone = ConfirmServer(people, api_key=api_key, port=options["confirm_port"])
        except OSError as exc:
            raise CommandError(f"Cannot listen on the port: {exc}") from exc
        return csc, phone

    def _authority(self, directory: Path, options: dict[str, Any]) -> DemoCaServer | None:
        """The demo CA's time-stamping authority and CRL, if demo_pki made its files."""
        password = options["password"].encode()
        try:
            ca_key = serialization.load_pem_private_key(
                (directory / "demo-ca-key.pem").read_bytes(), password
            )
            ca_cert = x509.load_pem_x509_certificate((directory / "demo-ca.pem").read_bytes())
            tsa_key, tsa_cert, _chain = pkcs12.load_key_and_certificates(
                (directory / TSA_FILE).read_bytes(), password
            )
        except (OSError, ValueError) as exc:
            self.stdout.write(self.style.WARNING(f"no demo time-stamps or CRL: {exc}"))
            return None
        if not (
            isinstance(ca_key, rsa.RSAPrivateKey)
            and isinstance(tsa_key, rsa.RSAPrivateKey)
            and tsa_cert is not None
        ):
            self.stdout.write(self.style.WARNING("no demo time-stamps or CRL: not demo_pki's keys"))
            return None
        try:
            return DemoCaServer(
                ca_key=ca_key,
                ca_cert=ca_cert,
                tsa_key=tsa_key,
                tsa_cert=tsa_cert,
                port=options["ca_port"],
            )
        except OSError as exc:
            raise CommandError(f"Cannot listen on the port: {exc}") from exc

    def _describe(
        self, csc: CscServer, phone: ConfirmServer, people: dict[str, KeyAndChain], *, pin: str
    ) -> None:
        self.stdout.write(f"CSC v2 service ({CSC_NAME}): {csc.base_url}")
        self.stdout.write(f"  credential ID = the username; PIN: {pin}; bearer token in config")
        self.stdout.write(f"Phone confirmation service ({PHONE_NAME}): {phone.base_url}")
        self.stdout.write("  user ID = the username; each user's phone:")
        for user_id, (_key, chain) in people.items():
            names = chain[0].subject.get_attributes_for_oid(NameOID.COMMON_NAME)
            holder = str(names[0].value) if names else "?"
            self.stdout.write(f"  {user_id}: {phone.phone_url(user_id)}  ({holder})")
        self.stdout.write("Test services only, never for real documents. Ctrl-C stops.")
