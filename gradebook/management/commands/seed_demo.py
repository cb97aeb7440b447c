from __future__ import annotations

import os
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from gradebook.demo import seed_demo_marks
from schools.demo import LARGE_CODE, PRIMARY_CODE, DemoLogin, seed_demo

LOGINS_FILE = Path(settings.BASE_DIR) / ".demo-logins.txt"


def banner(password: str, logins: list[DemoLogin]) -> str:
    """The demo's logins, one line per account the seed features (its own list), then how to
    get a two-factor code: a command that works as written (the Makefile's target sets DEBUG
    and uses the virtualenv)."""
    schools = {PRIMARY_CODE: "primary", LARGE_CODE: "benchmark"}
    lines = [
        "Demo logins (http://127.0.0.1:8000/) — demo data only, never use in production:",
        f"  password for every demo account: {password}",
    ]
    for login in logins:
        role = f"{schools.get(login.school, '')} {login.role}".strip()
        secret = f"TOTP secret {login.totp_secret}" if login.totp_secret else ""
        lines.append(f"  {login.username:<18} {role:<24} {secret}".rstrip())
    lines += [
        "Signers and exporters (those with a TOTP secret) use two-factor authentication; the",
        "current code of an account: make demo-totp ACCOUNT=USERNAME",
        "  (for example make demo-totp ACCOUNT=hieutruong)",
    ]
    return "\n".join(lines) + "\n"


class Command(BaseCommand):
    help = (
        "Create the demo schools and a full year of their marks (idempotent). Prints the demo "
        "logins the first time."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--students", type=int, default=None, help="also create a large school of N students"
        )
        parser.add_argument(
            "--password",
            default=os.environ.get("DEMO_PASSWORD"),
            help="password for new demo accounts (default: $DEMO_PASSWORD or a generated one)",
        )

    def handle(
        self, *args: object, students: int | None, password: str | None, **options: object
    ) -> None:
        started = time.perf_counter()
        result = seed_demo(today=timezone.localdate(), large_students=students, password=password)
        marks = seed_demo_marks()
        for code, written in marks.items():
            if written:
                self.stdout.write(f"School {code}: {written} marks written, each with its event.")
        elapsed = time.perf_counter() - started
        self.stdout.write(f"seed_demo took {elapsed:.1f} s.")
        if result.password is None:
            if not any(marks.values()):
                self.stdout.write("Demo data already present; nothing changed.")
            else:
                self.stdout.write("Demo accounts already present; their passwords are unchanged.")
            if LOGINS_FILE.exists():
                self.stdout.write(LOGINS_FILE.read_text(encoding="utf-8"))
            return
        text = banner(result.password, result.logins)
        self.stdout.write(text)
        if settings.DEBUG:
            LOGINS_FILE.write_text(text, encoding="utf-8")
