"""The search boxes of the students' and the staff's lists match without diacritics or case:
"nguyen" finds Nguyễn, "diep" Diệp, "dinh" Đinh, and a name typed with its marks (or pasted
decomposed, NFD) still finds it — and only it: "Yến" is not the "yen" of Nguyễn. Runs on
SQLite and, with DATABASE_URL, on PostgreSQL."""

import datetime
import importlib
import unicodedata

import pytest
from django.apps import apps

from accounts.models import Role, User
from schools.models import Student
from tests.conftest import make_user

NAMES = ["Nguyễn Thị Diệp", "Đinh Văn Đức", "Trần Văn An"]


def student(school, name: str, n: int) -> Student:
    return Student(
        school=school,
        full_name=name,
        sex="F",
        date_of_birth=datetime.date(2014, 3, 1),
        personal_id=f"001314{700 + n:06d}",
        student_code=f"HS9{n:05d}",
    )


def found(client, url: str, query: str) -> list[str]:
    html = client.get(url, {"name": query}).content.decode()
    return [name for name in NAMES if name in html]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("nguyen", ["Nguyễn Thị Diệp"]),
        ("DIEP", ["Nguyễn Thị Diệp"]),
        ("dinh", ["Đinh Văn Đức"]),
        ("van duc", ["Đinh Văn Đức"]),
        ("Nguyễn", ["Nguyễn Thị Diệp"]),
        ("Yến", []),  # typed with its marks: not the "yen" of Nguyễn
        ("đinh", ["Đinh Văn Đức"]),
        (unicodedata.normalize("NFD", "Diệp"), ["Nguyễn Thị Diệp"]),
        ("TRAN van", ["Trần Văn An"]),
    ],
)
def test_students_are_found_without_diacritics(setup_client, url, school_a, query, expected):
    for n, name in enumerate(NAMES):
        student(school_a, name, n).save()
    assert found(setup_client, url("setup_students"), query) == expected


def test_students_written_in_bulk_are_found_too(setup_client, url, school_a):
    """The roster import creates and renames students with bulk_create and bulk_update."""
    created = Student.objects.bulk_create([student(school_a, "Lê Thị Hằng", 1)])
    assert found(setup_client, url("setup_students"), "hang") == []  # not one of NAMES
    created[0].full_name = "Nguyễn Thị Diệp"
    Student.objects.bulk_update(created, ["full_name"])
    assert found(setup_client, url("setup_students"), "diep") == ["Nguyễn Thị Diệp"]


def test_the_migration_fills_the_search_names_of_existing_students(school_a):
    for n, name in enumerate(NAMES):
        student(school_a, name, n).save()
    Student.objects.update(search_name="")
    migration = importlib.import_module("schools.migrations.0004_search_names")
    migration.fill_search_names(apps, None)
    assert Student.objects.get(full_name="Đinh Văn Đức").search_name == "dinh van duc"


@pytest.mark.parametrize(
    ("query", "expected"),
    [("nguyen", ["Nguyễn Thị Diệp"]), ("diep", ["Nguyễn Thị Diệp"]), ("đinh", ["Đinh Văn Đức"])],
)
def test_staff_are_found_without_diacritics(setup_client, url, school_a, query, expected):
    for n, name in enumerate(NAMES):
        user = make_user(f"staff{n}", school_a, Role.TEACHER)
        User.objects.filter(pk=user.pk).update(full_name=name)
    assert found(setup_client, url("setup_teachers"), query) == expected


def test_staff_are_still_found_by_username_and_email(setup_client, url, school_a):
    user = make_user("co.diep", school_a, Role.TEACHER)
    User.objects.filter(pk=user.pk).update(full_name="Trần Văn An", email="lan@truong.example")
    assert found(setup_client, url("setup_teachers"), "co.diep") == ["Trần Văn An"]
    assert found(setup_client, url("setup_teachers"), "LAN@truong") == ["Trần Văn An"]
