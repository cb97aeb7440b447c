from django.core.management.base import BaseCommand, CommandError, CommandParser

from gradebook.checkpoints import CheckpointKeyError, checkpoint_schools
from gradebook.models import CheckpointReason
from schools.models import School


class Command(BaseCommand):
    help = (
        "Sign a checkpoint of each school's ledger head whose chain moved since its last "
        "checkpoint (run daily by cron; submissions, locks and package exports make their own)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--school", help="school code (default: every school)")

    def handle(self, *args: object, school: str | None, **options: object) -> None:
        schools = School.objects.order_by("code")
        if school:
            schools = schools.filter(code=school)
            if not schools.exists():
                raise CommandError(f"No school with code {school}.")
        try:
            for each, checkpoint in checkpoint_schools(schools, reason=CheckpointReason.DAILY):
                if checkpoint is None:
                    self.stdout.write(f"{each.code}: no events yet")
                else:
                    self.stdout.write(
                        f"{each.code}: checkpoint {checkpoint.number} at event #{checkpoint.seq}"
                    )
        except CheckpointKeyError as exc:
            raise CommandError(str(exc)) from exc
