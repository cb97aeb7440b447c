"""Export a school's signed transcripts as a package for the provincial system, from the
command line (the same export as the Packages page, run in this process).

    SIGNING_SECRET=... python manage.py export_transcripts --school CODE --year 2025-2026 \\
        [--kind full|incremental|single] [--student CODE] [--only-final] --out FILE.zip

The school seal's password / PIN / access token comes from SIGNING_SECRET. The export is
recorded in the school's package history like one started on the page.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from schools.models import Student
from transcripts.management.commands._options import (
    SECRET_VARIABLE,
    school_and_year,
    secret_from_environment,
)
from transcripts.models import JobStatus, PackageKind
from transcripts.packages.exports import ExportRefused, run_export, start_export


class Command(BaseCommand):
    help = (
        "Package the final transcripts of a school year (full, incremental since the last "
        "accepted upload, or one student's) into a signed ZIP for the provincial system. The "
        f"seal's password comes from the environment variable {SECRET_VARIABLE}."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--school", required=True, help="School code")
        parser.add_argument("--year", required=True, help="School year, e.g. 2025-2026")
        parser.add_argument("--kind", choices=PackageKind.values, default=PackageKind.FULL)
        parser.add_argument("--student", help="Student code (with --kind single)")
        parser.add_argument(
            "--only-final",
            action="store_true",
            help="Export the final transcripts even though some of the scope are not final",
        )
        parser.add_argument("--out", required=True, type=Path, help="Where to write the ZIP")

    def handle(self, *args: Any, **options: Any) -> None:
        school, year = school_and_year(options["school"], options["year"])
        student = None
        if options["student"]:
            student = Student.objects.filter(school=school, student_code=options["student"]).first()
            if student is None:
                raise CommandError(
                    _("No student with code %(code)s.") % {"code": options["student"]}
                )
        secret = secret_from_environment()
        try:
            package = start_export(
                actor=None,
                school=school,
                year=year,
                kind=options["kind"],
                student=student,
                only_final=options["only_final"],
                secret=secret,
                enqueue=False,
            )
        except ExportRefused as exc:
            for row in exc.not_final:
                self.stderr.write(
                    f"  {row.class_name:6} {row.student_code:12} {row.student}: {row.state}"
                )
            raise CommandError(exc.message) from exc
        run_export(package.pk)
        package.refresh_from_db()
        if package.status != JobStatus.FINISHED:
            for failure in package.failures:
                self.stderr.write(
                    f"FAILED {failure['class_name']:6} {failure['student']}: {failure['message']}"
                )
            raise CommandError(package.message or _("The export failed."), returncode=1)
        with package.file.open("rb") as source, options["out"].open("wb") as target:
            shutil.copyfileobj(source, target, 1024 * 1024)
        self.stdout.write(
            _(
                "Package %(id)s (%(kind)s, %(year)s): %(final)s transcripts, %(withdrawn)s "
                "withdrawn, %(left)s left out; %(size)s bytes, SHA-256 %(sha256)s → %(out)s"
            )
            % {
                "id": package.package_id,
                "kind": package.kind,
                "year": year.name,
                "final": package.final_count,
                "withdrawn": package.withdrawn_count,
                "left": package.left_out_count,
                "size": package.size,
                "sha256": package.sha256,
                "out": options["out"],
            }
        )
