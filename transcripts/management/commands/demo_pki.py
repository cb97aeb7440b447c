"""Create a demo CA and PKCS#12 files for the demo schools' signers, and register each file as the
holder's SigningCredential (encrypted at rest; user empty for the school seal). Demo and
development only."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import Membership, Role, User
from schools.demo import PRIMARY_CODE, SECONDARY_CODE
from schools.models import ClassGroup, School
from transcripts.models import CredentialKind, SigningCredential
from transcripts.signing.demo import (
    DEMO_CA_NAME,
    DEMO_CRL_URL,
    DEMO_TSA_NAME,
    create_ca,
    issue_certificate,
    pkcs12_bytes,
    private_directory,
    tighten_private,
    write_private,
)
from transcripts.signing.signers import SigningError, decrypt_at_rest, encrypt_at_rest

#: The demo time-stamping authority's key and certificate.
TSA_FILE = "demo-tsa.p12"
#: File name → (CN, O, school, user or None for the seal)
Wanted = dict[str, tuple[str, str | None, School, User | None]]


class Command(BaseCommand):
    help = (
        "Create a demo certification authority (never for real documents) and PKCS#12 files for "
        "the demo schools' homeroom teachers, principals and school seals, registered as their "
        "signing credentials. Skips existing files and credentials."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--out",
            help="Directory (default MEDIA_ROOT/demo-pki), made readable by its owner only "
            "(0700; private key files 0600)",
        )
        parser.add_argument(
            "--password",
            help="Password of the new PKCS#12 files and the CA key (default: random, printed)",
        )
        parser.add_argument(
            "--school",
            action="append",
            dest="schools",
            help=f"School code, repeatable (default {SECONDARY_CODE} and {PRIMARY_CODE})",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        out = Path(options["out"] or Path(settings.MEDIA_ROOT) / "demo-pki")
        private_directory(out)
        password_given = options["password"] is not None
        password = options["password"] or secrets.token_urlsafe(12)
        wanted = self._wanted_files(options["schools"] or [SECONDARY_CODE, PRIMARY_CODE])
        missing = {path: subject for path, subject in wanted.items() if not (out / path).exists()}
        ca_pem, ca_key_pem = out / "demo-ca.pem", out / "demo-ca-key.pem"
        for private in (ca_key_pem, out / TSA_FILE, *(out / name for name in wanted)):
            tighten_private(private)  # files an earlier run wrote readable by anyone
        if missing or not ca_pem.exists():
            ca_key, ca_cert = self._ca(ca_pem, ca_key_pem, password, password_given)
        issued: dict[str, list[x509.Certificate]] = {}
        for name, (common_name, organisation, _school, _user) in missing.items():
            key, cert = issue_certificate(
                ca_key,
                ca_cert,
                common_name=common_name,
                organisation=organisation,
                crl_url=DEMO_CRL_URL,
            )
            write_private(
                out / name,
                pkcs12_bytes(key, cert, [ca_cert], friendly_name=common_name, password=password),
            )
            issued[name] = [cert, ca_cert]
            self.stdout.write(f"created {out / name}  ({common_name})")
        tsa = out / TSA_FILE
        if not tsa.exists():  # the demo's time-stamping authority (signing_test_services)
            if not (missing or not ca_pem.exists()):
                ca_key, ca_cert = self._ca(ca_pem, ca_key_pem, password, password_given)
            key, cert = issue_certificate(
                ca_key, ca_cert, common_name=DEMO_TSA_NAME, organisation="Sổ điểm DEMO",
                time_stamping=True, crl_url=DEMO_CRL_URL,
            )  # fmt: skip
            write_private(
                tsa,
                pkcs12_bytes(key, cert, [ca_cert], friendly_name=DEMO_TSA_NAME, password=password),
            )
            self.stdout.write(f"created {tsa}  ({DEMO_TSA_NAME})")
        skipped = len(wanted) - len(missing)
        self.stdout.write(f"{len(missing)} created, {skipped} already present in {out}")
        registered = sum(
            self._register(out / name, school, user, issued.get(name), password, password_given)
            for name, (_cn, _o, school, user) in wanted.items()
        )
        self.stdout.write(f"{registered} signing credentials registered")
        if missing and not password_given:
            self.stdout.write(self.style.WARNING(f"PKCS#12 password (shown once): {password}"))
        self.stdout.write(f"Trust anchor for SIGNING_TRUST_ANCHORS: {ca_pem}")

    def _register(
        self,
        path: Path,
        school: School,
        user: User | None,
        certificates: list[x509.Certificate] | None,
        password: str,
        password_given: bool,
    ) -> int:
        """Make ``path`` the holder's active PKCS#12 SigningCredential unless it already is
        (older demo credentials of the holder are deactivated). Returns 1 when registered."""
        data = path.read_bytes()
        existing = SigningCredential.objects.filter(
            school=school, user=user, kind=CredentialKind.PKCS12, is_active=True
        )
        for credential in existing:
            try:
                if decrypt_at_rest(bytes(credential.pkcs12_encrypted)) == data:
                    return 0
            except SigningError:
                continue
        if certificates is not None and self._signs_otherwise(school, user, certificates[0]):
            return 0
        if certificates is None:  # a file from an earlier run: its certificate needs the password
            if not password_given:
                self.stdout.write(
                    self.style.WARNING(f"not registered (pass --password): {path.name}")
                )
                return 0
            try:
                _key, cert, chain = pkcs12.load_key_and_certificates(data, password.encode())
            except ValueError:
                self.stdout.write(self.style.WARNING(f"not registered (wrong --password): {path}"))
                return 0
            if cert is None:
                self.stdout.write(self.style.WARNING(f"not registered (no certificate): {path}"))
                return 0
            certificates = [cert, *chain]
        existing.update(is_active=False)
        SigningCredential.objects.create(
            school=school,
            user=user,
            kind=CredentialKind.PKCS12,
            pkcs12_encrypted=encrypt_at_rest(data),
            certificate_pem="".join(
                c.public_bytes(serialization.Encoding.PEM).decode() for c in certificates
            ),
        )
        return 1

    def _signs_otherwise(self, school: School, user: User | None, cert: x509.Certificate) -> bool:
        """The holder already signs with this certificate another way (a remote service, the
        USB token: ``manage.py demo_signing``): the file is not registered over it."""
        pem = cert.public_bytes(serialization.Encoding.PEM).decode()
        return SigningCredential.objects.filter(
            school=school, user=user, is_active=True, certificate_pem__startswith=pem
        ).exists()

    def _wanted_files(self, codes: list[str]) -> Wanted:
        """File name → (CN, O, school, user). People's CN is their full name; the seal's is the
        school's, with no user."""
        wanted: Wanted = {}
        for school in School.objects.filter(code__in=codes).order_by("code"):
            classes = ClassGroup.objects.filter(
                year__school=school, homeroom_teacher__isnull=False
            ).select_related("homeroom_teacher")
            people = {c.homeroom_teacher for c in classes if c.homeroom_teacher is not None}
            people |= {
                m.user
                for m in Membership.objects.active()
                .filter(school=school, role=Role.PRINCIPAL)
                .select_related("user")
            }
            for user in sorted(people, key=lambda u: u.username):
                wanted[f"{school.code}-{user.username}.p12"] = (
                    user.display_name,
                    school.name,
                    school,
                    user,
                )
            wanted[f"{school.code}-seal.p12"] = (school.name, school.name, school, None)
        if not wanted:
            raise CommandError(f"No school with code {', '.join(codes)}: run seed_demo first")
        return wanted

    def _ca(self, ca_pem: Path, ca_key_pem: Path, password: str, password_given: bool) -> Any:
        if ca_pem.exists() and ca_key_pem.exists():
            if not password_given:
                raise CommandError(
                    "The demo CA exists: pass the --password used when it was created to add "
                    "certificates"
                )
            try:
                key = serialization.load_pem_private_key(ca_key_pem.read_bytes(), password.encode())
            except ValueError as exc:
                raise CommandError("Wrong --password for the existing demo CA key") from exc
            return key, x509.load_pem_x509_certificate(ca_pem.read_bytes())
        key, cert = create_ca(name=DEMO_CA_NAME)
        write_private(
            ca_key_pem,
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.BestAvailableEncryption(password.encode()),
            ),
        )
        ca_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        self.stdout.write(f"created demo CA {ca_pem} ({DEMO_CA_NAME})")
        return key, cert
