"""Words of the gradebook's messages: the rules package's InvalidMark as a translated message
for the user, and a moment as the messages write it."""

from __future__ import annotations

import datetime

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext

from gradebook.rules import InvalidMark


def invalid_mark_message(error: InvalidMark) -> str:
    """The translated message of an InvalidMark, in the active language."""
    return gettext(error.message) % dict(error.params)


def short_datetime(moment: datetime.datetime) -> str:
    """The moment in local time, in the active language's short date-time format."""
    return date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")
