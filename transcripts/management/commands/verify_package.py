"""Verify a transcript package offline (docs/package-format.md): exit status 0 only if every
check holds; otherwise one line per problem, naming the member.

    python manage.py verify_package FILE.zip [--trust-anchor CA.pem ...]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from transcripts.packages.verify import verify_package


class Command(BaseCommand):
    help = (
        "Check a transcript package offline: ZIP structure, the manifest's signature and its "
        "certificate chain, every file's digest, every XML and PDF and their signatures. "
        "Trust anchors: SIGNING_TRUST_ANCHORS unless --trust-anchor is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("package", type=Path)
        parser.add_argument(
            "--trust-anchor",
            action="append",
            type=Path,
            dest="anchors",
            help="A PEM file of trusted CA certificates (repeatable)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["package"]
        if not path.is_file():
            raise CommandError(_("No such file: %(path)s") % {"path": path})
        report = verify_package(path, anchor_paths=options["anchors"])
        manifest = report.manifest
        if manifest is not None:
            self.stdout.write(
                _("Package %(id)s: %(kind)s, school %(school)s (%(code)s), %(year)s")
                % {
                    "id": manifest.package_id,
                    "kind": manifest.kind,
                    "school": manifest.school_name,
                    "code": manifest.school_code,
                    "year": manifest.school_year,
                }
            )
            self.stdout.write(
                _("%(transcripts)s transcripts, %(withdrawn)s withdrawn, %(files)s files checked")
                % {
                    "transcripts": report.transcripts_checked,
                    "withdrawn": len(manifest.withdrawals),
                    "files": report.files_checked,
                }
            )
        if report.sealed_by:
            self.stdout.write(_("Manifest sealed by: %(holder)s") % {"holder": report.sealed_by})
        for problem in report.problems:
            self.stdout.write(f"FAILED {problem}")
        if not report.ok:
            raise CommandError(
                _("%(n)s problem(s) found: the package is not valid.")
                % {"n": len(report.problems)},
                returncode=1,
            )
        self.stdout.write(_("OK: every check passed."))
