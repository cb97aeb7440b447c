"""Submitting a gradebook, leadership locks and lock dates: every write path refuses a locked
cell, and only the leadership locks and unlocks, always with a reason."""

import datetime

import pytest
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Role
from gradebook import locks
from gradebook.columns import homeroom_columns
from gradebook.completeness import book_status, required_columns
from gradebook.models import EventSource, Lock, LockKind, Mark, MarkEvent
from gradebook.services import GradebookError, Locked, save_mark
from schools.access import SchoolAccess, school_roles
from tests.conftest import add_students, make_user

WRITE_PATHS = [EventSource.GRID, EventSource.ROW_FORM, EventSource.IMPORT]


pytestmark = pytest.mark.usefixtures("english")  # tests/conftest.py


@pytest.fixture
def maths(class_a):
    return class_a.year.curriculum.get(grade=class_a.grade, subject__code="TOAN")


@pytest.fixture
def students(class_a):
    return [e.student for e in class_a.enrollments.order_by("roll_number")]


def write(class_group, actor, student, column, text, source=EventSource.GRID):
    return save_mark(actor=actor, class_group=class_group, student=student, column=column,
                     text=text, base_version=None, source=source)  # fmt: skip


@pytest.fixture
def complete_maths(class_a, teacher, maths, students):
    """Every required maths cell of term I filled in, through save_mark."""
    for student in students:
        for column in required_columns(maths, 1):
            write(class_a, teacher, student, column, "8")
    return maths


def submit(class_a, teacher, entry, term=1):
    return locks.submit_gradebook(actor=teacher, class_group=class_a, entry=entry, term=term)


def lock(principal, class_a, **kwargs):
    kwargs.setdefault("reason", "Khóa sổ cuối kỳ")
    return locks.lock(actor=principal, school=class_a.year.school, year=class_a.year, **kwargs)


# Submission -------------------------------------------------------------------------------------


def test_submit_is_refused_while_marks_are_missing_and_says_how_many(
    class_a, teacher, maths, students
):
    first = required_columns(maths, 1)[0]
    write(class_a, teacher, students[0], first, "7")
    missing = 3 * len(required_columns(maths, 1)) - 1
    with pytest.raises(GradebookError) as refused:
        submit(class_a, teacher, maths)
    assert f"{missing} marks are missing" in refused.value.message
    assert students[0].full_name in refused.value.message
    assert not Lock.objects.exists()


def test_submit_names_only_the_first_few_students(class_a, teacher, maths):
    add_students(class_a, [("Võ Minh Khôi", "M"), ("Đặng Thu Trang", "F")], start=20)
    with pytest.raises(GradebookError) as refused:
        submit(class_a, teacher, maths)
    assert refused.value.message.count("TX1") == locks.MISSING_STUDENTS_NAMED == 3
    assert "and 2 more students" in refused.value.message


def test_complete_book_is_submitted_and_locked(class_a, teacher, complete_maths):
    submission = submit(class_a, teacher, complete_maths)
    assert (submission.kind, submission.class_group, submission.term) == ("submitted", class_a, 1)
    assert submission.subject_id == complete_maths.subject_id
    assert book_status(class_a, complete_maths, 1).state == "submitted"


def test_submitting_twice_is_a_no_op(class_a, teacher, complete_maths):
    first = submit(class_a, teacher, complete_maths)
    assert submit(class_a, teacher, complete_maths) == first
    assert Lock.objects.count() == 1


def test_only_a_teacher_of_the_subject_may_submit(class_a, homeroom, principal, complete_maths):
    for someone in (homeroom, principal):
        with pytest.raises(PermissionDenied):
            submit(class_a, someone, complete_maths)


@pytest.mark.parametrize("source", WRITE_PATHS)
def test_submitted_book_refuses_writes_from_every_path(
    class_a, teacher, students, complete_maths, source
):
    submit(class_a, teacher, complete_maths)
    column = required_columns(complete_maths, 1)[0]
    with pytest.raises(Locked):
        write(class_a, teacher, students[0], column, "3", source=source)
    assert Mark.objects.get(student=students[0], kind=column.kind, slot=column.slot).value == "8"


def test_marks_have_no_django_admin_that_could_bypass_locks():
    assert Mark not in admin.site._registry
    assert MarkEvent not in admin.site._registry


def test_reopening_a_submission_restores_editing(
    class_a, teacher, principal, students, complete_maths
):
    submission = submit(class_a, teacher, complete_maths)
    locks.unlock(actor=principal, lock=submission, reason="Nhập nhầm điểm TX1")
    column = required_columns(complete_maths, 1)[0]
    assert write(class_a, teacher, students[0], column, "9").changed
    submission.refresh_from_db()
    assert (submission.released_by, submission.release_reason) == (principal, "Nhập nhầm điểm TX1")
    assert submit(class_a, teacher, complete_maths) != submission  # submitted anew


# Leadership locks -------------------------------------------------------------------------------


@pytest.mark.parametrize("source", WRITE_PATHS)
def test_leadership_lock_refuses_writes_and_unlock_restores_them(
    class_a, teacher, principal, students, maths, source
):
    column = required_columns(maths, 1)[0]
    class_lock = lock(principal, class_a, class_group=class_a, term=1)
    with pytest.raises(Locked, match="Khóa sổ cuối kỳ"):
        write(class_a, teacher, students[0], column, "6", source=source)
    locks.unlock(actor=principal, lock=class_lock, reason="Bổ sung điểm")
    assert write(class_a, teacher, students[0], column, "6", source=source).changed


def test_lock_without_subject_covers_the_homeroom_book(class_a, homeroom, principal, students):
    lock(principal, class_a, class_group=class_a, term=1)
    conduct = homeroom_columns(primary=False, term=1)[0]
    with pytest.raises(Locked):
        write(class_a, homeroom, students[0], conduct, "T")


def test_subject_lock_leaves_other_subjects_and_homeroom_open(
    class_a, homeroom, principal, students, maths
):
    lock(principal, class_a, subject=maths.subject)
    literature = class_a.year.curriculum.get(grade=6, subject__code="NV")
    assert write(class_a, homeroom, students[0], required_columns(literature, 1)[0], "7").changed
    conduct = homeroom_columns(primary=False, term=1)[0]
    assert write(class_a, homeroom, students[0], conduct, "T").changed


@pytest.mark.parametrize("persona", ["teacher", "homeroom", "admin"])
def test_only_the_leadership_locks_and_unlocks(request, class_a, principal, persona):
    someone = request.getfixturevalue(persona)
    with pytest.raises(PermissionDenied):
        lock(someone, class_a)
    held = lock(principal, class_a)
    with pytest.raises(PermissionDenied):
        locks.unlock(actor=someone, lock=held, reason="please")


def test_a_vice_principal_is_a_delegate_of_the_principal(class_a, school_a):
    vice = make_user("vice", school_a, Role.VICE_PRINCIPAL)
    assert lock(vice, class_a, term=2).created_by == vice


def test_an_inactive_principal_may_not_lock(class_a, principal):
    Membership.objects.filter(user=principal).update(is_active=False)
    with pytest.raises(PermissionDenied):
        lock(principal, class_a)


@pytest.mark.parametrize("reason", ["", "   "])
def test_lock_and_unlock_need_a_reason(class_a, principal, reason):
    with pytest.raises(GradebookError, match="reason"):
        lock(principal, class_a, reason=reason)
    held = lock(principal, class_a)
    with pytest.raises(GradebookError, match="reason"):
        locks.unlock(actor=principal, lock=held, reason=reason)
    held.refresh_from_db()
    assert held.released_at is None


def test_the_same_lock_twice_is_refused(class_a, principal):
    lock(principal, class_a, term=1)
    with pytest.raises(GradebookError, match="already locked"):
        lock(principal, class_a, term=1)


def test_a_released_lock_cannot_be_released_again(class_a, principal):
    held = lock(principal, class_a)
    locks.unlock(actor=principal, lock=held, reason="xong")
    with pytest.raises(GradebookError, match="already released"):
        locks.unlock(actor=principal, lock=held, reason="again")


def test_class_of_another_school_cannot_be_locked_here(class_a, class_b, principal):
    with pytest.raises(GradebookError):
        lock(principal, class_a, class_group=class_b)


# Lock dates -------------------------------------------------------------------------------------


def set_date(principal, class_a, day, term=1):
    return locks.set_lock_date(actor=principal, school=class_a.year.school, year=class_a.year,
                               term=term, date=day, reason="Hạn khóa sổ HK I")  # fmt: skip


def today():
    return timezone.localdate(timezone=locks.SCHOOL_TIMEZONE)


def test_lock_date_in_the_future_does_not_lock_yet(class_a, teacher, principal, students, maths):
    set_date(principal, class_a, today() + datetime.timedelta(days=3))
    assert write(class_a, teacher, students[0], required_columns(maths, 1)[0], "7").changed


def test_lock_date_in_the_past_locks_every_book_of_the_term(
    class_a, teacher, homeroom, principal, students, maths
):
    set_date(principal, class_a, today() - datetime.timedelta(days=1))
    with pytest.raises(Locked):
        write(class_a, teacher, students[0], required_columns(maths, 1)[0], "7")
    with pytest.raises(Locked):
        write(class_a, homeroom, students[0], homeroom_columns(primary=False, term=1)[0], "T")
    assert write(class_a, teacher, students[0], required_columns(maths, 2)[0], "7").changed


def test_lock_date_starts_at_midnight_vietnamese_time(class_a, principal):
    held = set_date(principal, class_a, datetime.date(2026, 1, 16))
    assert held.starts_at == datetime.datetime(2026, 1, 15, 17, 0, tzinfo=datetime.UTC)
    assert (held.class_group, held.subject, held.kind) == (None, None, LockKind.LOCKED)


def test_a_new_lock_date_replaces_the_scheduled_one(class_a, principal):
    first = set_date(principal, class_a, today() + datetime.timedelta(days=5))
    second = set_date(principal, class_a, today() + datetime.timedelta(days=9))
    first.refresh_from_db()
    assert first.released_by == principal and "Replaced" in first.release_reason
    assert list(Lock.objects.filter(released_at__isnull=True)) == [second]


def test_only_the_leadership_sets_lock_dates(class_a, teacher):
    with pytest.raises(PermissionDenied):
        set_date(teacher, class_a, today())


# Pages --------------------------------------------------------------------------------------------


def test_teacher_submits_from_the_grid_and_comes_back(client, class_a, teacher, complete_maths):
    client.force_login(teacher)
    url = reverse("gradebook:submit", args=[class_a.year.school.code, class_a.pk,
                                            complete_maths.subject_id, 1])  # fmt: skip
    response = client.post(url, {"next": "/s/SCHOOLA/?from=grid"}, follow=True)
    assert response.redirect_chain[-1][0] == "/s/SCHOOLA/?from=grid"
    assert "submitted and locked" in response.content.decode()
    assert Lock.objects.get().kind == "submitted"


def test_submit_page_refuses_an_unsafe_next_url(client, class_a, teacher, maths):
    client.force_login(teacher)
    url = reverse("gradebook:submit", args=["SCHOOLA", class_a.pk, maths.subject_id, 1])
    response = client.post(url, {"next": "https://evil.example/"})
    assert response.url == reverse("schools:dashboard", args=["SCHOOLA"])


def test_principal_locks_and_unlocks_on_the_locks_page(client, class_a, principal, maths):
    client.force_login(principal)
    data = {"lock-term": "1", "lock-class_group": class_a.pk, "lock-subject": maths.subject_id,
            "lock-reason": "Thanh tra"}  # fmt: skip
    response = client.post(reverse("gradebook:lock_create", args=["SCHOOLA"]), data)
    assert response.status_code == 302
    held = Lock.objects.get()
    assert (held.class_group, held.subject, held.term, held.reason) == (
        class_a, maths.subject, 1, "Thanh tra"
    )  # fmt: skip
    page = client.get(reverse("gradebook:locks", args=["SCHOOLA"])).content.decode()
    assert "Thanh tra" in page and "6A1" in page
    client.post(reverse("gradebook:unlock", args=["SCHOOLA", held.pk]), {"reason": "Xong"})
    held.refresh_from_db()
    assert held.release_reason == "Xong"


def test_locks_page_form_without_reason_shows_the_error(client, class_a, principal):
    client.force_login(principal)
    response = client.post(reverse("gradebook:lock_create", args=["SCHOOLA"]), {"lock-term": "1"})
    assert response.status_code == 200
    assert response.context["lock_form"].errors["reason"]
    assert not Lock.objects.exists()


def test_principal_sets_a_lock_date_on_the_locks_page(client, class_a, principal):
    client.force_login(principal)
    data = {"date-term": "2", "date-date": "2026-05-20", "date-reason": "Hạn HK II"}
    client.post(reverse("gradebook:lock_date", args=["SCHOOLA"]), data)
    held = Lock.objects.get()
    assert (held.term, timezone.localdate(held.starts_at)) == (2, datetime.date(2026, 5, 20))


# The grid's lock panel --------------------------------------------------------------------------


def render_panel(user, class_a, entry, term=1):
    request = RequestFactory().get("/grid/")
    request.user = user
    school = class_a.year.school
    access = SchoolAccess(user=user, school=school, roles=school_roles(user).get(school.pk))
    panel = locks.lock_panel(access, class_a, entry, term)  # the grid page's view reads it
    context = {"access": access, "class_group": class_a, "entry": entry, "term": term,
               "panel": panel}  # fmt: skip
    return render_to_string("gradebook/_lock_panel.html", context, request=request)


def test_panel_offers_submission_to_the_assigned_teacher_only(
    class_a, teacher, homeroom, principal, maths
):
    assert 'id="submit-gradebook"' in render_panel(teacher, class_a, maths)
    for someone in (homeroom, principal):
        assert 'id="submit-gradebook"' not in render_panel(someone, class_a, maths)
    assert "0 of 18 required marks" in render_panel(teacher, class_a, maths)


def test_panel_shows_the_submission_and_lets_the_principal_reopen_it(
    class_a, teacher, principal, complete_maths
):
    submit(class_a, teacher, complete_maths)
    seen_by_teacher = render_panel(teacher, class_a, complete_maths)
    assert "Submitted by teacher" in seen_by_teacher
    assert 'id="submit-gradebook"' not in seen_by_teacher and "Reopen" not in seen_by_teacher
    assert "Reopen" in render_panel(principal, class_a, complete_maths)


def test_panel_sends_the_principal_to_the_locks_page_for_school_wide_locks(
    class_a, principal, maths
):
    lock(principal, class_a, term=1, reason="Khóa toàn trường")
    panel = render_panel(principal, class_a, maths)
    assert "Khóa toàn trường" in panel and "Manage school locks" in panel
    assert "Reopen" not in panel and 'name="reason"' not in panel


def test_panel_announces_a_coming_lock_date(class_a, teacher, principal, maths):
    set_date(principal, class_a, today() + datetime.timedelta(days=2))
    assert "This gradebook locks on" in render_panel(teacher, class_a, maths)


def test_panel_is_empty_outside_a_term(class_a, teacher, maths):
    assert render_panel(teacher, class_a, maths, term=0).strip() == ""
