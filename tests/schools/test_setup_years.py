import datetime

from django.urls import reverse

from schools.models import SchoolYear

NEXT_YEAR = {
    "start_year": 2026,
    "term1_start": "2026-09-05",
    "term1_end": "2027-01-15",
    "term2_start": "2027-01-18",
    "term2_end": "2027-05-25",
    "make_current": "on",
}


def test_creating_a_year_makes_two_terms_and_copies_the_curriculum(setup_client, url, world):
    previous = world["school_a"].current_year()
    response = setup_client.post(url("setup_year_create"), NEXT_YEAR)
    assert response.status_code == 302
    year = SchoolYear.objects.get(school=world["school_a"], start_year=2026)
    assert year.is_current
    assert [(t.number, t.starts_on) for t in year.terms.all()] == [
        (1, datetime.date(2026, 9, 5)),
        (2, datetime.date(2027, 1, 18)),
    ]
    assert year.curriculum.count() == previous.curriculum.count() > 0
    previous.refresh_from_db()
    assert not previous.is_current


def test_first_year_of_a_school_loads_the_programme_defaults(setup_client, new_school):
    setup_client.post(reverse("schools:setup_year_create", args=[new_school.code]), NEXT_YEAR)
    year = new_school.years.get()
    assert year.is_current
    assert year.curriculum.filter(grade=6, subject__code="TOAN").exists()


def test_an_existing_year_is_not_created_twice(setup_client, url):
    response = setup_client.post(url("setup_year_create"), {**NEXT_YEAR, "start_year": 2025})
    assert "start_year" in response.context["form"].errors


def test_overlapping_terms_are_rejected(setup_client, url):
    data = {**NEXT_YEAR, "term2_start": "2027-01-10"}
    response = setup_client.post(url("setup_year_create"), data)
    assert "term2_start" in response.context["form"].errors
    assert not SchoolYear.objects.filter(start_year=2026).exists()


def test_term_dates_can_be_edited(setup_client, url, world):
    year = world["school_a"].current_year()
    data = {
        "term1_start": "2025-09-08",
        "term1_end": "2026-01-16",
        "term2_start": "2026-01-18",
        "term2_end": "2026-05-29",
    }
    response = setup_client.post(url("setup_year_edit", pk=year.pk), data)
    assert response.status_code == 302
    assert year.terms.get(number=2).starts_on == datetime.date(2026, 1, 18)


def test_another_year_can_be_made_current(setup_client, url, world):
    setup_client.post(url("setup_year_create"), {**NEXT_YEAR, "make_current": ""})
    old = world["school_a"].current_year()
    assert old.start_year == 2025
    new = world["school_a"].years.get(start_year=2026)
    setup_client.post(url("setup_year_make_current", pk=new.pk))
    assert list(world["school_a"].years.filter(is_current=True)) == [new]


def test_years_list_shows_the_terms_and_class_count(setup_client, url):
    response = setup_client.get(url("setup_years"))
    (row,) = response.context["table"].rows
    assert row.record.class_count == 2
    assert row.record.term1_start == datetime.date(2025, 9, 5)
