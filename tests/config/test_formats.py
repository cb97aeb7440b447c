"""Dates as each language reads them without doubt: Vietnamese 07/12/2026 and 09:27 07/12/2026
(day first, as schools write them), English "7 Dec 2026" and "7 Dec 2026 09:27" — never
"12/07/2026 9:27 a.m.", which an English reader takes for 12 July. Typed dates are day-first in
both languages."""

import datetime
import zoneinfo

import pytest
from django import forms
from django.urls import reverse
from django.utils import formats, translation

from schools.invitations import invite_to_staff
from schools.models import Invitation
from tests.conftest import make_user

HANOI = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")
MOMENT = datetime.datetime(2036, 12, 7, 9, 27, tzinfo=HANOI)  # after the test runs: still open


@pytest.fixture
def invited(school_a, school_b, admin):
    """A person with an invitation that can be answered until 7 December 2036, 09:27."""
    person = make_user("invited", school_b)
    invite_to_staff(school=school_a, inviter=admin, user=person, roles=["teacher"])
    Invitation.objects.filter(invited_user=person).update(expires_at=MOMENT)
    return person


@pytest.mark.parametrize(
    ("language", "expected", "ambiguous"),
    [("en", "7 Dec 2036 09:27", "12/07/2036"), ("vi", "09:27 07/12/2036", "7 Dec")],
)
def test_a_page_shows_dates_unambiguously(client, invited, language, expected, ambiguous):
    client.force_login(invited)
    client.cookies["django_language"] = language
    html = client.get(reverse("invitations")).content.decode()
    assert expected in html
    assert ambiguous not in html
    assert "a.m." not in html


def test_the_english_formats():
    day = datetime.date(2026, 12, 7)
    with translation.override("en"):
        assert formats.date_format(day) == "7 Dec 2026"
        assert formats.date_format(day, "SHORT_DATE_FORMAT") == "7 Dec 2026"
        moment = datetime.datetime(2026, 12, 7, 9, 27)
        assert formats.date_format(moment, "DATETIME_FORMAT") == "7 Dec 2026 09:27"
        assert formats.date_format(moment, "SHORT_DATETIME_FORMAT") == "7 Dec 2026 09:27"


@pytest.mark.parametrize("language", ["en", "vi"])
def test_a_typed_date_is_read_day_first(language):
    with translation.override(language):
        field = forms.DateField()
        assert field.clean("07/12/2026") == datetime.date(2026, 12, 7)
        assert field.clean("2026-12-07") == datetime.date(2026, 12, 7)
