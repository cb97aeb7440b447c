import datetime
import io
import re
from pathlib import Path

from django.conf import settings as django_settings
from django.core.management import call_command
from django.utils import timezone

from accounts.models import Membership, User
from schools.demo import PRIMARY_CODE, SECONDARY_CODE, seed_demo
from schools.models import ClassGroup, Enrollment, School, Student, TeachingAssignment
from schools.validators import validate_personal_id, validate_personal_id_matches

TODAY = datetime.date(2026, 11, 23)


def test_demo_builds_a_realistic_lower_secondary_and_primary_school(db):
    result = seed_demo(today=TODAY, password="demo-pass-123")
    assert result.password == "demo-pass-123"
    secondary = School.objects.get(code=SECONDARY_CODE)
    year = secondary.current_year()
    assert year.name == "2026-2027"
    classes = ClassGroup.objects.filter(year=year)
    assert classes.count() >= 8
    assert {c.grade for c in classes} == {6, 7, 8, 9}
    for class_group in classes:
        assert 35 <= class_group.enrollments.count() <= 45
        assert class_group.homeroom_teacher is not None
    assert year.curriculum.filter(grade=6).count() == 12
    primary = School.objects.get(code=PRIMARY_CODE)
    assert {c.grade for c in ClassGroup.objects.filter(year__school=primary)} == {1, 2, 3, 4, 5}
    assert Membership.objects.filter(school=secondary, role="principal").exists()


def test_demo_students_have_valid_identifiers_and_vietnamese_names(db):
    seed_demo(today=TODAY, password="demo-pass-123")
    for student in Student.objects.all()[:200]:
        validate_personal_id(student.personal_id)
        validate_personal_id_matches(
            student.personal_id, sex=student.sex, date_of_birth=student.date_of_birth
        )
        assert len(student.full_name.split()) == 3
    assert Student.objects.filter(full_name__contains="Nguyễn").exists()


def test_demo_is_idempotent(db):
    seed_demo(today=TODAY, password="demo-pass-123")
    counts = [
        m.objects.count() for m in (User, Student, Enrollment, ClassGroup, TeachingAssignment)
    ]
    again = seed_demo(today=TODAY)
    assert again.password is None
    assert [
        m.objects.count() for m in (User, Student, Enrollment, ClassGroup, TeachingAssignment)
    ] == counts


def test_demo_large_school_has_exactly_the_requested_students(db):
    seed_demo(today=TODAY, password="demo-pass-123", large_students=500)
    large = School.objects.get(code="01009999")
    assert Student.objects.filter(school=large).count() == 500
    assert max(c.enrollments.count() for c in ClassGroup.objects.filter(year__school=large)) <= 45


def test_demo_teacher_sees_their_assignments(client, db):
    seed_demo(today=TODAY, password="demo-pass-123")
    assert client.login(username="gv.toan1", password="demo-pass-123")
    response = client.get(f"/s/{SECONDARY_CODE}/")
    assert response.status_code == 200
    assert b"my-assignments" in response.content
    assert "Toán".encode() in response.content


def test_a_generated_demo_password_never_starts_with_a_dash(monkeypatch):
    """The demo scripts take the password as `--password X`; one starting with '-' was read as
    an option and the demo failed."""
    from schools import demo

    drawn = iter(["-Sru9DrEx89v", "_x1", "Ab3-_x"])
    monkeypatch.setattr(demo.secrets, "token_urlsafe", lambda n: next(drawn))
    assert demo._generated_password() == "Ab3-_x"


# The start-up banner (seed_demo's output) and the README ---------------------------------------

ROOT = Path(django_settings.BASE_DIR)


def _banner(settings) -> str:
    settings.DEBUG = False  # the command keeps the banner in .demo-logins.txt only in DEBUG
    out = io.StringIO()
    call_command("seed_demo", "--password", "demo-pass-123", stdout=out)
    return out.getvalue()


def test_the_banner_lists_every_demo_account_of_the_seed(db, settings):
    """Every account the seed features (its own list: signers, exporters and a teacher) is on
    the banner's list of accounts, before the two-factor instructions: gv.nv1, who signs
    through the remote signing service, was missing."""
    banner = _banner(settings)
    featured = seed_demo(today=timezone.localdate()).logins  # the same accounts, again
    accounts = banner.split("two-factor")[0]
    usernames = {login.username for login in featured}
    assert {"gv.toan1", "gv.nv1", "phohieutruong", "th.gvcn.1a1"} <= usernames
    for username in usernames:
        assert f"\n  {username} " in accounts, username


def test_the_two_factor_command_given_works_as_written(db, settings):
    """`python manage.py demo_totp USERNAME` fails outside the virtualenv and without DEBUG=1:
    the banner and the README give the Makefile's target instead."""
    banner = _banner(settings)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^demo-totp:", makefile, flags=re.MULTILINE)
    for text in (banner, readme):
        assert "make demo-totp ACCOUNT=" in text
        assert "python manage.py demo_totp" not in text


def test_the_readme_names_the_admins_menu_entry_for_packages():
    """The admin reaches the packages through the school's menu entry "Packages for the
    Department" (Gói học bạ gửi Sở), not through "Transcripts" (Học bạ), which is the
    leaders'."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    subnav = (ROOT / "templates/schools/_subnav.html").read_text(encoding="utf-8")
    assert '{% translate "Packages for the Department" %}' in subnav
    assert "Học bạ → Packages" not in readme
    assert "**Packages for the Department** (*Gói học bạ gửi Sở*)" in readme
