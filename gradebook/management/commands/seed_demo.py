from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from schools.demo import seed_demo

LOGINS_FILE = Path(settings.BASE_DIR) / ".demo-logins.txt"


class Command(BaseCommand):
    help = "Create the demo schools (idempotent). Prints the demo logins the first time."

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
        result = seed_demo(today=timezone.localdate(), large_students=students, password=password)
        if result.password is None:
            self.stdout.write("Demo data already present; nothing changed.")
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
