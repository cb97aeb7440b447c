"""Shared personas: a teacher, a homeroom teacher, a principal and an admin of school A, and an
outsider who holds every role in school B. Signers and exporters (the admin) have TOTP so MFA
does not get in the way."""

from __future__ import annotations

import datetime

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.utils import translation

from accounts.models import Membership, Role, User
from schools.models import ClassGroup, Enrollment, School, Student, TeachingAssignment
from schools.services import create_school_year, renumber_class


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """PBKDF2 is deliberately slow; tests do not need that protection."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True, scope="session")
def ledger_rows_deletable_by_flush():
    """The test database's flush (after a transactional test) empties every table with DELETE
    on SQLite, which the ledger's triggers refuse unless the application opens their guard
    (gradebook/migrations/0004): open it for the flush, and only there."""
    from django.core.management.commands import flush

    from gradebook.ledger import ledger_maintenance

    original = flush.Command.handle

    def handle(self, *args, **options):
        with ledger_maintenance():
            return original(self, *args, **options)

    flush.Command.handle = handle
    yield
    flush.Command.handle = original


@pytest.fixture(autouse=True, scope="session")
def demo_logins_kept_apart(tmp_path_factory):
    """`seed_demo` in DEBUG writes the demo's logins to .demo-logins.txt beside the code: a test
    that seeds writes them to a file of its own, never over the developer's."""
    from gradebook.management.commands import seed_demo

    original = seed_demo.LOGINS_FILE
    seed_demo.LOGINS_FILE = tmp_path_factory.mktemp("demo-logins") / ".demo-logins.txt"
    yield
    seed_demo.LOGINS_FILE = original


@pytest.fixture
def english(client, settings):
    """For tests that assert English text: the client's pages (language cookie) and messages
    raised in-process are in English. Yields the client."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield client


PERSONAS = ("anonymous", "teacher", "homeroom", "principal", "admin", "outsider")


def make_user(username: str, school: School, *roles: str, totp: bool = False) -> User:
    user = User.objects.create_user(
        username=username, password="pw-" + username, full_name=username
    )
    for role in roles:
        Membership.objects.create(user=user, school=school, role=role)
    if totp:
        TOTP.activate(user, generate_totp_secret())
    return user


def make_school(code: str, name: str) -> School:
    school = School.objects.create(
        code=code, name=name, department_code="01", level="lower_secondary"
    )
    create_school_year(
        school=school,
        start_year=2025,
        term1=(datetime.date(2025, 9, 5), datetime.date(2026, 1, 15)),
        term2=(datetime.date(2026, 1, 19), datetime.date(2026, 5, 25)),
    )
    return school


def add_students(
    class_group: ClassGroup, names: list[tuple[str, str]], start: int
) -> list[Student]:
    students = []
    for offset, (name, sex) in enumerate(names):
        n = start + offset
        digit = "2" if sex == "M" else "3"
        students.append(
            Student.objects.create(
                school=class_group.year.school,
                full_name=name,
                sex=sex,
                date_of_birth=datetime.date(2014, 3, 1 + offset),
                personal_id=f"001{digit}14{n:06d}",
                student_code=f"HS{n:06d}",
            )
        )
        Enrollment.objects.create(student=students[-1], class_group=class_group)
    renumber_class(class_group=class_group)
    return students


@pytest.fixture
def school_a(db) -> School:
    return make_school("SCHOOLA", "Trường THCS Ánh Dương")


@pytest.fixture
def school_b(db) -> School:
    return make_school("SCHOOLB", "Trường THCS Bình Minh")


@pytest.fixture
def teacher(school_a) -> User:
    return make_user("teacher", school_a, Role.TEACHER)


@pytest.fixture
def homeroom(school_a) -> User:
    return make_user("homeroom", school_a, Role.TEACHER, totp=True)


@pytest.fixture
def principal(school_a) -> User:
    return make_user("principal", school_a, Role.PRINCIPAL, totp=True)


@pytest.fixture
def admin(school_a) -> User:
    return make_user("admin", school_a, Role.ADMIN, totp=True)


@pytest.fixture
def outsider(school_b) -> User:
    return make_user(
        "outsider",
        school_b,
        Role.ADMIN,
        Role.PRINCIPAL,
        Role.VICE_PRINCIPAL,
        Role.TEACHER,
        totp=True,
    )


@pytest.fixture
def class_a(school_a, teacher, homeroom) -> ClassGroup:
    year = school_a.current_year()
    class_group = ClassGroup.objects.create(
        year=year, name="6A1", grade=6, homeroom_teacher=homeroom
    )
    maths = school_a.subjects.get(code="TOAN")
    literature = school_a.subjects.get(code="NV")
    TeachingAssignment.objects.create(teacher=teacher, class_group=class_group, subject=maths)
    TeachingAssignment.objects.create(teacher=homeroom, class_group=class_group, subject=literature)
    add_students(
        class_group,
        [("Nguyễn Văn Bình", "M"), ("Trần Thị An", "F"), ("Lê Hoàng Yến", "F")],
        start=1,
    )
    return class_group


@pytest.fixture
def class_a2(school_a) -> ClassGroup:
    """A class of school A that the teacher does not teach."""
    year = school_a.current_year()
    class_group = ClassGroup.objects.create(year=year, name="6A2", grade=6)
    add_students(class_group, [("Phạm Minh Đức", "M")], start=50)
    return class_group


@pytest.fixture
def class_b(school_b, outsider) -> ClassGroup:
    year = school_b.current_year()
    class_group = ClassGroup.objects.create(
        year=year, name="6B1", grade=6, homeroom_teacher=outsider
    )
    add_students(class_group, [("Đỗ Thu Hà", "F")], start=100)
    return class_group


@pytest.fixture
def world(
    school_a, school_b, teacher, homeroom, principal, admin, outsider, class_a, class_a2, class_b
):
    """Everything the permission matrix needs, by name."""
    return {
        "school_a": school_a,
        "school_b": school_b,
        "class_a": class_a,
        "class_a2": class_a2,
        "class_b": class_b,
        "student_a": class_a.enrollments.first().student,
        "student_b": class_b.enrollments.first().student,
        "users": {
            "teacher": teacher,
            "homeroom": homeroom,
            "principal": principal,
            "admin": admin,
            "outsider": outsider,
        },
    }
