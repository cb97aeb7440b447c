from django.core.management.base import BaseCommand, CommandError, CommandParser

from gradebook.ledger import verify_chain
from schools.models import School


class Command(BaseCommand):
    help = (
        "Recompute each school's ledger chain, report the first broken link and every mark whose "
        "value differs from its last ledger event. Exit status 1 if anything is wrong."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--school", help="school code (default: every school)")

    def handle(self, *args: object, school: str | None, **options: object) -> None:
        schools = School.objects.all()
        if school:
            schools = schools.filter(code=school)
            if not schools.exists():
                raise CommandError(f"No school with code {school}.")
        failed = False
        for each in schools:
            problems = list(verify_chain(each))
            if problems:
                failed = True
                self.stdout.write(self.style.ERROR(f"{each.code}: {len(problems)} problem(s)"))
                for problem in problems:
                    where = f"event #{problem.seq}: " if problem.seq else ""
                    self.stdout.write(f"  [{problem.kind}] {where}{problem.detail}")
            else:
                self.stdout.write(self.style.SUCCESS(f"{each.code}: ledger intact"))
        if failed:
            raise CommandError("The ledger does not verify.")
