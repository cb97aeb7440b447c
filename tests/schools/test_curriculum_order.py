"""The subjects' order (the columns of the summaries, the lines of a transcript) numbers a
school's default subjects 1, 2, 3… in the programme's order (docs/curriculum.md), without
repeats: it used to be each subject's position in the first grade that studied it, from 0, so
that primary's Ngoại ngữ 1 (from grade 3) shared 2 with Đạo đức."""

import datetime
import importlib

import pytest
from django.apps import apps

from schools.curriculum import LOWER_SECONDARY_SUBJECTS, PRIMARY_SUBJECTS
from schools.models import School, Subject
from schools.services import create_school_year


def school_with_a_year(code: str, level: str) -> School:
    school = School.objects.create(code=code, name=code, department_code="01", level=level)
    create_school_year(
        school=school,
        start_year=2025,
        term1=(datetime.date(2025, 9, 5), datetime.date(2026, 1, 15)),
        term2=(datetime.date(2026, 1, 19), datetime.date(2026, 5, 25)),
    )
    return school


def orders(school: School) -> list[tuple[int, str]]:
    return list(school.subjects.order_by("order", "code").values_list("order", "code"))


@pytest.mark.parametrize(
    ("level", "catalogue"),
    [("primary", PRIMARY_SUBJECTS), ("lower_secondary", LOWER_SECONDARY_SUBJECTS)],
)
def test_default_subjects_are_numbered_from_one_in_the_programmes_order(db, level, catalogue):
    school = school_with_a_year("S1", level)
    expected = [(n, s.code) for n, s in enumerate(catalogue, start=1)]
    assert orders(school) == expected


def test_a_multi_level_school_numbers_each_subject_once(db):
    school = school_with_a_year("S2", "multi_level")
    numbers = [order for order, _code in orders(school)]
    assert numbers == list(range(1, len(numbers) + 1))
    assert dict((code, n) for n, code in orders(school))["TV"] == 1


def _fix():
    return importlib.import_module("schools.migrations.0005_subject_order").renumber_subjects


def test_the_migration_renumbers_a_school_numbered_the_old_way(db):
    school = school_with_a_year("S3", "primary")
    old = {"TV": 0, "TOAN": 1, "DD": 2, "NN1": 2, "TNXH": 3, "GDTC": 4, "LSDL": 4, "AN": 5,
           "THCN": 5, "KH": 5, "MT": 6, "HDTN": 7}  # fmt: skip
    for code, order in old.items():
        Subject.objects.filter(school=school, code=code).update(order=order)
    Subject.objects.create(school=school, code="TC", name="Tự chọn", order=8)  # the school's own
    _fix()(apps, None)
    assert orders(school) == [
        *((n, s.code) for n, s in enumerate(PRIMARY_SUBJECTS, start=1)),
        (len(PRIMARY_SUBJECTS) + 1, "TC"),
    ]


def test_the_migration_leaves_an_order_the_school_chose(db):
    school = school_with_a_year("S4", "primary")
    chosen = {code: 20 - n for n, (_o, code) in enumerate(orders(school))}  # reversed, 9..20
    for code, order in chosen.items():
        Subject.objects.filter(school=school, code=code).update(order=order)
    _fix()(apps, None)
    assert dict((code, n) for n, code in orders(school)) == chosen
