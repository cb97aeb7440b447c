"""Importing teacher accounts: new accounts without a password, memberships of this school only."""

import io

import openpyxl
import pytest

from accounts.models import Membership, Role, User
from schools.models import Invitation
from schools.roster_import.service import import_roster

HEADER = ["Tên đăng nhập", "Họ và tên", "Email", "Điện thoại"]
LAN = ["nguyenthilan", "Nguyễn Thị Lan", "Lan.Nguyen@School-A.edu.vn", "0912345678"]
HUNG = ["tranvanhung", "Trần Văn Hùng", "hung@school-a.edu.vn", ""]


pytestmark = pytest.mark.usefixtures("english")  # tests/conftest.py


def xlsx(rows: list[list]) -> bytes:
    workbook = openpyxl.Workbook()
    for row in [HEADER, *rows]:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def run(world, data: bytes):
    school = world["school_a"]
    return import_roster(
        school=school, year=None, kind="teachers", data=data, filename="giao-vien.xlsx"
    )


def counts(outcome) -> list[tuple[int, int, int]]:
    return [(c.created, c.updated, c.unchanged) for c in outcome.counts]


def accounts() -> list[tuple]:
    users = list(User.objects.order_by("pk").values_list())
    memberships = list(Membership.objects.order_by("pk").values_list())
    return users + memberships


def test_new_teachers_get_an_account_without_password_and_a_membership(world):
    outcome = run(world, xlsx([LAN, HUNG]))
    assert outcome.ok, outcome.errors
    assert counts(outcome) == [(2, 0, 0), (2, 0, 0)]
    lan = User.objects.get(username="nguyenthilan")
    assert (lan.full_name, lan.email, lan.phone) == (
        "Nguyễn Thị Lan",
        "lan.nguyen@school-a.edu.vn",
        "0912345678",
    )
    assert not lan.has_usable_password()
    assert list(lan.memberships.values_list("school", "role", "is_active")) == [
        (world["school_a"].pk, Role.TEACHER, True)
    ]


def test_reimporting_teachers_changes_nothing(world):
    run(world, xlsx([LAN, HUNG]))
    before = accounts()
    outcome = run(world, xlsx([LAN, HUNG]))
    assert counts(outcome) == [(0, 0, 2), (0, 0, 2)]
    assert accounts() == before


def test_another_schools_account_is_invited_not_attached(world):
    """An account the school did not create joins only if its owner accepts (issue 18, finding 8;
    tests/schools/test_staff_invitations.py); the file changes nothing of it."""
    outsider = world["users"]["outsider"]
    user_before = User.objects.filter(pk=outsider.pk).values_list().get()
    school_b_before = list(outsider.memberships.filter(school=world["school_b"]).values_list())
    outcome = run(world, xlsx([["outsider", "Tên Khác", "khac@example.edu.vn", "0900000000"]]))
    assert counts(outcome) == [(0, 0, 1), (0, 0, 0), (1, 0, 0)]
    assert User.objects.filter(pk=outsider.pk).values_list().get() == user_before
    assert list(outsider.memberships.filter(school=world["school_b"]).values_list()) == (
        school_b_before
    )
    assert not outsider.memberships.filter(school=world["school_a"]).exists()
    (invitation,) = Invitation.objects.filter(invited_user=outsider)
    assert (invitation.school, invitation.roles) == (world["school_a"], [Role.TEACHER])


def test_a_past_member_of_this_school_gets_the_teacher_membership(world):
    principal = world["users"]["principal"]
    principal.memberships.update(is_active=False)
    outcome = run(world, xlsx([["principal", "principal", "p@example.edu.vn", ""]]))
    assert counts(outcome) == [(0, 0, 1), (1, 0, 0)]
    assert principal.memberships.filter(role=Role.TEACHER, is_active=True).exists()
    assert not Invitation.objects.exists()


def test_existing_teacher_of_this_school_is_unchanged(world):
    outcome = run(world, xlsx([["teacher", "teacher", "teacher@example.edu.vn", ""]]))
    assert counts(outcome) == [(0, 0, 1), (0, 0, 1)]


def test_email_of_another_account_is_an_error_and_nothing_is_written(world):
    world["users"]["outsider"].email = "taken@school-b.edu.vn"
    world["users"]["outsider"].save()
    before = accounts()
    outcome = run(world, xlsx([LAN, ["newbie", "Lê Văn Mới", "TAKEN@school-b.edu.vn", ""]]))
    assert [(e.row, e.column) for e in outcome.errors] == [(3, "Email")]
    assert accounts() == before


def test_bad_and_duplicate_rows_are_all_reported(world):
    outcome = run(
        world,
        xlsx([LAN, ["bad name!", "", "not-an-email", "12"], [LAN[0].upper(), "X", "x@y.vn", ""]]),
    )
    assert [(e.row, e.column) for e in outcome.errors] == [
        (3, "Tên đăng nhập"),
        (3, "Họ và tên"),
        (3, "Email"),
        (3, "Điện thoại"),
        (4, "Tên đăng nhập"),
    ]
    assert not User.objects.filter(username="nguyenthilan").exists()


def test_the_teacher_import_names_no_student_column():
    """The import page's help lists each column's aliases: a teacher's name is not a "student
    name" (nor a "Họ tên học sinh")."""
    from schools.roster_import.columns import TEACHERS, normalize_header

    aliases = [normalize_header(alias) for column in TEACHERS.columns for alias in column.aliases]
    assert [alias for alias in aliases if "student" in alias or "hoc sinh" in alias] == []
    assert "teacher name" in aliases


def test_the_import_page_help_for_teachers_lists_teacher_aliases(client, world):
    from django.urls import reverse

    client.force_login(world["users"]["admin"])
    html = client.get(reverse("schools:roster_import", args=[world["school_a"].code])).content
    teachers_help = html.decode().split('id="kind-teachers"')[1].split("</ul>")[0]
    assert "student name" not in teachers_help
    assert "teacher name" in teachers_help
