from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from gradebook.notices import remind_lock_dates


class Command(BaseCommand):
    help = (
        "Remind the teachers of incomplete gradebooks of every lock date within "
        "NOTIFY_LOCK_DATE_DAYS days (run daily by cron; each teacher once per lock date)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days", type=int, help="days ahead (default: settings.NOTIFY_LOCK_DATE_DAYS)"
        )

    def handle(self, *args: object, days: int | None, **options: object) -> None:
        with transaction.atomic():
            made = remind_lock_dates(days=days or settings.NOTIFY_LOCK_DATE_DAYS)
        self.stdout.write(f"{made} reminder(s) made")
