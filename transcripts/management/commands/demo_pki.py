"""Create a demo CA and PKCS#12 files for the demo schools' signers. Demo and development only."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import Membership, Role
from schools.demo import PRIMARY_CODE, SECONDARY_CODE
from schools.models import ClassGroup, School
from transcripts.signing.demo import DEMO_CA_NAME, create_ca, issue_certificate, pkcs12_bytes


class Command(BaseCommand):
    help = (
        "Create a demo certification authority (never for real documents) and PKCS#12 files for "
        "the demo schools' homeroom teachers, principals and school seals. Skips existing files."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", help="Directory (default MEDIA_ROOT/demo-pki)")
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
        out.mkdir(parents=True, exist_ok=True)
        password_given = options["password"] is not None
        password = options["password"] or secrets.token_urlsafe(12)
        wanted = self._wanted_files(options["schools"] or [SECONDARY_CODE, PRIMARY_CODE])
        missing = {path: subject for path, subject in wanted.items() if not (out / path).exists()}
        ca_pem, ca_key_pem = out / "demo-ca.pem", out / "demo-ca-key.pem"
        if missing or not ca_pem.exists():
            ca_key, ca_cert = self._ca(ca_pem, ca_key_pem, password, password_given)
        for name, (common_name, organisation) in missing.items():
            key, cert = issue_certificate(
                ca_key, ca_cert, common_name=common_name, organisation=organisation
            )
            (out / name).write_bytes(
                pkcs12_bytes(key, cert, [ca_cert], friendly_name=common_name, password=password)
            )
            self.stdout.write(f"created {out / name}  ({common_name})")
        skipped = len(wanted) - len(missing)
        self.stdout.write(f"{len(missing)} created, {skipped} already present in {out}")
        if missing and not password_given:
            self.stdout.write(self.style.WARNING(f"PKCS#12 password (shown once): {password}"))
        self.stdout.write(f"Trust anchor for SIGNING_TRUST_ANCHORS: {ca_pem}")

    def _wanted_files(self, codes: list[str]) -> dict[str, tuple[str, str | None]]:
        """File name → (CN, O). People's CN is their full name; the seal's is the school's."""
        wanted: dict[str, tuple[str, str | None]] = {}
        for school in School.objects.filter(code__in=codes).order_by("code"):
            classes = ClassGroup.objects.filter(
                year__school=school, homeroom_teacher__isnull=False
            ).select_related("homeroom_teacher")
            people = {c.homeroom_teacher for c in classes}
            people |= {
                m.user
                for m in Membership.objects.active()
                .filter(school=school, role=Role.PRINCIPAL)
                .select_related("user")
            }
            for user in sorted(people, key=lambda u: u.username):
                wanted[f"{school.code}-{user.username}.p12"] = (user.display_name, school.name)
            wanted[f"{school.code}-seal.p12"] = (school.name, school.name)
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
            from cryptography import x509

            return key, x509.load_pem_x509_certificate(ca_pem.read_bytes())
        key, cert = create_ca(name=DEMO_CA_NAME)
        ca_key_pem.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.BestAvailableEncryption(password.encode()),
            )
        )
        ca_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        self.stdout.write(f"created demo CA {ca_pem} ({DEMO_CA_NAME})")
        return key, cert
