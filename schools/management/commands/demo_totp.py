from allauth.mfa.models import Authenticator
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from accounts.totp import current_totp_code
from schools.demo import LARGE_CODE, PRIMARY_CODE, SECONDARY_CODE


class Command(BaseCommand):
    help = "Print the current two-factor code of a DEMO account (demo schools only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: object, username: str, **options: object) -> None:
        user = User.objects.filter(
            username=username,
            memberships__school__code__in=[SECONDARY_CODE, PRIMARY_CODE, LARGE_CODE],
        ).first()
        if user is None:
            raise CommandError(f"{username} is not an account of a demo school.")
        try:
            self.stdout.write(current_totp_code(user))
        except Authenticator.DoesNotExist:
            raise CommandError(f"{username} has no two-factor authenticator.") from None
