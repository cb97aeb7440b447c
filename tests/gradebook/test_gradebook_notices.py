"""What the gradebook tells its teachers (issue 17): a decided correction to the teacher who
asked, a lock or unlock to the teachers of the books it covers (each once, never another
school's), a lock date that approaches to the teachers whose books are incomplete (once per lock
date and teacher, by `manage.py notify_deadlines`)."""

import datetime

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from accounts.models import Notification, NotificationKind, Role
from gradebook import corrections, locks
from gradebook.completeness import required_columns
from gradebook.services import save_mark
from schools.models import ClassGroup, TeachingAssignment
from tests.conftest import add_students, make_user

pytestmark = pytest.mark.usefixtures("english")  # tests/conftest.py


@pytest.fixture
def maths(class_a):
    return class_a.year.curriculum.get(grade=class_a.grade, subject__code="TOAN")


@pytest.fixture
def teacher2(school_a, class_a2):
    """Teaches maths in 6A2 (the teacher teaches it in 6A1)."""
    user = make_user("teacher2", school_a, Role.TEACHER)
    maths = school_a.subjects.get(code="TOAN")
    TeachingAssignment.objects.create(teacher=user, class_group=class_a2, subject=maths)
    return user


@pytest.fixture
def school_b_teacher(class_b):
    maths = class_b.year.school.subjects.get(code="TOAN")
    user = make_user("teacher-b", class_b.year.school, Role.TEACHER)
    TeachingAssignment.objects.create(teacher=user, class_group=class_b, subject=maths)
    return user


def notified(kind=None) -> list[str]:
    rows = Notification.objects.all() if kind is None else Notification.objects.filter(kind=kind)
    return sorted(rows.values_list("recipient__username", flat=True))


def lock(principal, class_a, **kwargs):
    kwargs.setdefault("reason", "Khóa sổ cuối kỳ")
    return locks.lock(actor=principal, school=class_a.year.school, year=class_a.year, **kwargs)


def write_all(class_group, actor, entry, term, value="8"):
    for enrollment in class_group.enrollments.all():
        for column in required_columns(entry, term):
            save_mark(actor=actor, class_group=class_group, student=enrollment.student,
                      column=column, text=value, base_version=None)  # fmt: skip


# Corrections ----------------------------------------------------------------------------------


@pytest.fixture
def correction(class_a, teacher, principal, maths):
    student = class_a.enrollments.order_by("roll_number").first().student
    tx1 = required_columns(maths, 1)[0]
    save_mark(actor=teacher, class_group=class_a, student=student, column=tx1, text="5",
              base_version=None)  # fmt: skip
    lock(principal, class_a, class_group=class_a, term=1)
    Notification.objects.all().delete()  # the lock's own notifications
    return corrections.request_correction(actor=teacher, class_group=class_a, student=student,
                                          column=tx1, new_text="7", reason="Nhập nhầm")  # fmt: skip


def test_an_approved_correction_tells_the_teacher_who_asked_and_no_one_else(correction, principal):
    corrections.approve_correction(actor=principal, request=correction, note="Đồng ý")
    assert notified() == ["teacher"]
    note = Notification.objects.get()
    assert note.kind == NotificationKind.CORRECTION_APPROVED
    assert note.url == reverse("gradebook:corrections", args=["SCHOOLA"])
    student = correction.mark.student.full_name
    assert note.text == (
        f"Your correction of TX1 of {student} (6A1, Toán) to “7” was approved by principal."
    )


def test_a_rejected_correction_says_why(correction, principal):
    corrections.reject_correction(actor=principal, request=correction, note="Điểm đúng rồi")
    note = Notification.objects.get()
    assert (note.kind, note.recipient.username) == (NotificationKind.CORRECTION_REJECTED, "teacher")
    assert note.text.endswith("was rejected by principal: Điểm đúng rồi")


# Locks ----------------------------------------------------------------------------------------


def test_a_class_lock_tells_its_teachers_and_homeroom_teacher_only(
    class_a, principal, teacher2, school_b_teacher
):
    lock(principal, class_a, class_group=class_a, term=1)
    assert notified(NotificationKind.BOOK_LOCKED) == ["homeroom", "teacher"]
    note = Notification.objects.get(recipient__username="teacher")
    assert note.text == "principal locked the gradebooks 6A1 · all subjects and homeroom books " \
        "· Term I: Khóa sổ cuối kỳ"  # fmt: skip
    assert note.url == reverse("schools:dashboard", args=["SCHOOLA"])


def test_a_book_lock_links_to_its_grid(class_a, principal, maths):
    lock(principal, class_a, class_group=class_a, subject=maths.subject, term=1)
    assert notified() == ["teacher"]  # the homeroom teacher teaches literature
    url = reverse("gradebook:grid", args=["SCHOOLA", class_a.pk, maths.subject_id, 1])
    assert Notification.objects.get().url == url


def test_a_subject_lock_leaves_out_the_homeroom_teachers(class_a, principal, maths, teacher2):
    lock(principal, class_a, subject=maths.subject)
    assert notified() == ["teacher", "teacher2"]


def test_a_whole_school_lock_tells_every_teacher_once_in_constant_queries(
    class_a, principal, teacher2, school_b_teacher
):
    with CaptureQueriesContext(connection) as few:
        first = lock(principal, class_a, term=1)
    assert notified() == ["homeroom", "teacher", "teacher2"]  # homeroom teaches too: once
    locks.unlock(actor=principal, lock=first, reason="Mở lại")
    more = ClassGroup.objects.create(year=class_a.year, name="6A9", grade=6)
    add_students(more, [("Hồ Văn Nam", "M")], start=90)
    subjects = list(class_a.year.school.subjects.all()[:5])
    for n, subject in enumerate(subjects):
        user = make_user(f"extra{n}", class_a.year.school, Role.TEACHER)
        TeachingAssignment.objects.create(teacher=user, class_group=more, subject=subject)
    with CaptureQueriesContext(connection) as many:
        lock(principal, class_a, term=1, reason="Khóa lại")
    assert len(many) == len(few)
    assert Notification.objects.filter(kind=NotificationKind.BOOK_LOCKED).count() == 3 + 8


def test_unlock_tells_the_same_teachers(class_a, principal):
    held = lock(principal, class_a, class_group=class_a, term=1)
    locks.unlock(actor=principal, lock=held, reason="Sửa điểm")
    assert notified(NotificationKind.BOOK_UNLOCKED) == ["homeroom", "teacher"]
    note = Notification.objects.get(
        kind=NotificationKind.BOOK_UNLOCKED, recipient__username="teacher"
    )
    assert note.text.startswith("principal unlocked the gradebooks 6A1") and "Sửa điểm" in note.text


def test_submitting_tells_no_one_and_reopening_a_submission_tells_its_teacher(
    class_a, teacher, principal, maths
):
    write_all(class_a, teacher, maths, 1)
    submission = locks.submit_gradebook(actor=teacher, class_group=class_a, entry=maths, term=1)
    assert notified() == []
    locks.unlock(actor=principal, lock=submission, reason="Sửa lại TX2")
    assert notified(NotificationKind.BOOK_UNLOCKED) == ["teacher"]


def test_a_lock_date_tells_every_teacher_when(class_a, principal, teacher2):
    day = timezone.localdate() + datetime.timedelta(days=20)
    locks.set_lock_date(actor=principal, school=class_a.year.school, year=class_a.year, term=1,
                        date=day, reason="Hạn khóa sổ HK I")  # fmt: skip
    assert notified(NotificationKind.BOOK_LOCKED) == ["homeroom", "teacher", "teacher2"]
    text = Notification.objects.filter(recipient__username="teacher2").get().text
    assert f"from {date_format(day, 'SHORT_DATE_FORMAT')}" in text


def test_a_lock_mails_the_teachers_with_an_address(
    class_a, teacher, principal, django_capture_on_commit_callbacks
):
    teacher.email = "gv.toan@example.edu.vn"
    teacher.save()
    with django_capture_on_commit_callbacks(execute=True):
        lock(principal, class_a, class_group=class_a, term=1)
    assert [m.to for m in mail.outbox] == [["gv.toan@example.edu.vn"]]


# Lock dates that approach ---------------------------------------------------------------------


def set_date(principal, class_a, days, term=1):
    day = timezone.localdate(timezone=locks.SCHOOL_TIMEZONE) + datetime.timedelta(days=days)
    return locks.set_lock_date(actor=principal, school=class_a.year.school, year=class_a.year,
                               term=term, date=day, reason="Hạn khóa sổ")  # fmt: skip


def reminded() -> list[str]:
    return notified(NotificationKind.LOCK_DATE_SOON)


def test_the_deadline_command_reminds_teachers_of_incomplete_books_once(
    class_a, teacher, principal, maths, teacher2, school_b_teacher,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    teacher2.email = "gv2@example.edu.vn"
    teacher2.save()
    write_all(class_a, teacher, maths, 1)  # the teacher's only book is complete
    set_date(principal, class_a, 2)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("notify_deadlines")
    assert reminded() == ["homeroom", "teacher2"]
    note = Notification.objects.get(kind=NotificationKind.LOCK_DATE_SOON, recipient=teacher2)
    missing = len(required_columns(maths, 1))  # 6A2 has one student
    assert f"1 of your gradebooks is incomplete ({missing} marks missing)" in note.text
    assert len(mail.outbox) == 1
    with django_capture_on_commit_callbacks(execute=True):
        call_command("notify_deadlines")
    assert reminded() == ["homeroom", "teacher2"] and len(mail.outbox) == 1


def test_the_deadline_command_waits_until_the_lock_date_is_near(
    class_a, principal, settings, teacher2
):
    set_date(principal, class_a, 5)
    call_command("notify_deadlines")
    assert reminded() == []
    settings.NOTIFY_LOCK_DATE_DAYS = 7
    call_command("notify_deadlines")
    assert reminded() == ["homeroom", "teacher", "teacher2"]


def test_a_released_or_past_lock_date_reminds_no_one(class_a, principal):
    held = set_date(principal, class_a, 2)
    locks.unlock(actor=principal, lock=held, reason="Hoãn")
    set_date(principal, class_a, -1, term=2)
    call_command("notify_deadlines")
    assert reminded() == []


# The teacher's home: their books, what is missing, the deadline -------------------------------


def dashboard(client, user):
    client.force_login(user)
    client.get(reverse("home"))  # the session's two-factor decision, made again on a new role
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("schools:dashboard", args=["SCHOOLA"]))
    assert response.status_code == 200
    return response.content.decode(), len(queries)


def test_the_teacher_home_lists_each_book_with_what_is_missing(
    english, class_a, teacher, principal, maths
):
    write_all(class_a, teacher, maths, 1)
    locks.submit_gradebook(actor=teacher, class_group=class_a, entry=maths, term=1)
    page, _queries = dashboard(english, teacher)
    term1 = f'id="book-{class_a.pk}-{maths.subject_id}-1"'
    term2 = f'id="book-{class_a.pk}-{maths.subject_id}-2"'
    assert term1 in page and term2 in page
    row1 = page[page.index(term1) : page.index("</td>", page.index(term1))]
    row2 = page[page.index(term2) : page.index("</td>", page.index(term2))]
    assert "Submitted" in row1 and "missing" not in row1
    assert f"{3 * len(required_columns(maths, 2))} missing" in row2 and "Open" in row2
    grid = reverse("gradebook:grid", args=["SCHOOLA", class_a.pk, maths.subject_id, 2])
    assert f'href="{grid}"' in row2


def test_the_teacher_home_shows_the_lock_date_of_each_term(
    english, class_a, teacher, principal, maths
):
    held = set_date(principal, class_a, 10)
    page, _queries = dashboard(english, teacher)
    term1 = f'id="book-{class_a.pk}-{maths.subject_id}-1"'
    row1 = page[page.index(term1) : page.index("</td>", page.index(term1))]
    day = timezone.localtime(held.starts_at, locks.SCHOOL_TIMEZONE).date()
    assert f"Locks on {date_format(day, 'SHORT_DATE_FORMAT')}" in row1
    term2 = f'id="book-{class_a.pk}-{maths.subject_id}-2"'
    assert "Locks on" not in page[page.index(term2) : page.index("</td>", page.index(term2))]


def test_the_homeroom_teacher_sees_the_homeroom_book(english, class_a, homeroom):
    page, _queries = dashboard(english, homeroom)
    assert f'id="book-{class_a.pk}-homeroom-1"' in page
    # conduct of three students, nothing else required in a lower secondary homeroom book
    row = page[page.index(f'id="book-{class_a.pk}-homeroom-1"') :]
    assert "3 missing" in row[: row.index("</td>")]


def test_the_teacher_home_costs_the_same_queries_for_any_number_of_books(
    english, class_a, class_a2, homeroom, school_a
):
    _page, two_books = dashboard(english, homeroom)  # literature in 6A1, 6A1's homeroom book
    for subject_code in ("TOAN", "TIN", "CN"):
        subject = school_a.subjects.get(code=subject_code)
        TeachingAssignment.objects.create(teacher=homeroom, class_group=class_a2, subject=subject)
    class_a2.homeroom_teacher = homeroom
    class_a2.save()
    page, six_books = dashboard(english, homeroom)
    assert page.count('class="teacher-book ') == 2 * 6  # two terms of each book
    assert six_books == two_books
