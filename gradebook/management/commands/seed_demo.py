from __future__ import annotations

import os
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from gradebook.demo import seed_demo_marks
from schools.demo import seed_demo

LOGINS_FILE = Path(settings.BASE_DIR) / ".demo-logins.txt"


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
        lines = [
            "Demo logins (http://127.0.0.1:8000/) — demo data only, never use in production:",
            f"  password for every demo account: {result.password}",
            "  teacher (Toán 6A2 … 9A2):  gv.toan1      primary homeroom teacher: th.gvcn.1a1",
            "  school admin:             admin          primary school admin:     th.admin",
            "  principal:                hieutruong     primary principal:        th.hieutruong",
            "Signers have two-factor authentication; get the current code with",
            "  python manage.py demo_totp USERNAME",
        ]
        for login in result.logins:
            if login.totp_secret:
                lines.append(
                    f"  {login.username:<18} {login.role:<16} TOTP secret {login.totp_secret}"
                )
        text = "\n".join(lines) + "\n"
        self.stdout.write(text)
        if settings.DEBUG:
            LOGINS_FILE.write_text(text, encoding="utf-8")
