import zipfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gradebook.checkpoints import PACKAGE_MEMBER, Statement, read_document
from gradebook.ledger import LedgerReport, verify
from schools.models import School


class Command(BaseCommand):
    help = (
        "Recompute each school's ledger chain and check it against the school's signed "
        "checkpoints (and those given with --checkpoint); report the first broken link, any "
        "checkpoint the chain no longer matches, every mark moved or changed behind the ledger "
        "and every event without its mark. Exit status 1 if anything is wrong."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--school", help="school code (default: every school)")
        parser.add_argument(
            "--checkpoint",
            action="append",
            default=[],
            metavar="FILE",
            help="a checkpoint kept outside the database: its JSON document, or a transcript "
            "package (ZIP) that carries one; may be repeated",
        )

    def handle(
        self, *args: object, school: str | None, checkpoint: list[str], **options: object
    ) -> None:
        external = [_read_checkpoint(Path(name)) for name in checkpoint]
        schools = School.objects.order_by("code")
        if school:
            schools = schools.filter(code=school)
            if not schools.exists():
                raise CommandError(f"No school with code {school}.")
        failed = False
        for each in schools:
            report = verify(each, external=external)
            if report.problems:
                failed = True
                self.stdout.write(
                    self.style.ERROR(f"{each.code}: {len(report.problems)} problem(s)")
                )
                for problem in report.problems:
                    where = f"event #{problem.seq}: " if problem.seq else ""
                    self.stdout.write(f"  [{problem.kind}] {where}{problem.detail}")
            else:
                self.stdout.write(
                    self.style.SUCCESS(f"{each.code}: ledger intact, {report.events} event(s)")
                )
            self.stdout.write(f"  {_anchoring(report)}")
        if failed:
            raise CommandError("The ledger does not verify.")


def _read_checkpoint(path: Path) -> tuple[Statement, str]:
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as package:
                data = package.read(PACKAGE_MEMBER)
        else:
            data = path.read_bytes()
        return read_document(data)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise CommandError(f"{path}: no ledger checkpoint could be read ({exc}).") from exc


def _anchoring(report: LedgerReport) -> str:
    """Since when, and how far, signed checkpoints vouch for the chain."""
    latest = report.anchored_up_to
    if latest is None:
        return "not anchored: no signed checkpoint yet"
    first = min(report.anchors, key=lambda a: a.at)
    line = (
        f"anchored by {len(report.anchors)} signed checkpoint(s) since "
        f"{first.at:%Y-%m-%d %H:%M} UTC; up to event #{latest.seq} by checkpoint "
        f"{latest.number} of {latest.at:%Y-%m-%d %H:%M} UTC"
    )
    if report.events > latest.seq:
        line += f"; events #{latest.seq + 1}–#{report.events} not yet anchored"
    if report.legacy_events:
        line += (
            f"; {report.legacy_events} event(s) written before cells were recorded do not "
            "cover which cell they changed"
        )
    return line
