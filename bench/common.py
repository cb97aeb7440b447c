"""Shared set-up of the benchmarks: Django on its own database, a class of N students with a full
term of marks, and the figures printed at the end. Not a test: nothing here asserts a timing."""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "sqlite:////tmp/sodiem-bench.sqlite3"
BENCH_SCHOOL = "BENCH"
BENCH_SUBJECT = "TOAN"


def arguments(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--students", type=int, default=45, help="class size (default 45)")
    parser.add_argument("--repeat", type=int, default=50, help="timed requests (default 50)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests first")
    parser.add_argument(
        "--database-url",
        default=DEFAULT_DATABASE_URL,
        help=f"database to build the class in (default {DEFAULT_DATABASE_URL}); pass "
        '"$DATABASE_URL" to use the configured one',
    )
    parser.add_argument(
        "--class-pk",
        type=int,
        help="bench an existing class (e.g. of `seed_demo --students 2000`), not a new one",
    )
    parser.add_argument(
        "--url",
        help="also time over HTTP against a server running on the same database, e.g. "
        "http://127.0.0.1:8000",
    )
    return parser


def setup_django(database_url: str) -> None:
    """Django on the benchmark's database, migrated."""
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


@dataclass
class Bench:
    """The gradebook under test and the teacher who writes it."""

    class_group: object
    subject: object
    teacher: object
    term: int = 1

    @property
    def kwargs(self) -> dict:
        return {
            "code": self.class_group.year.school.code,
            "class_pk": self.class_group.pk,
            "subject_pk": self.subject.pk,
        }


def bench_class(students: int, class_pk: int | None = None) -> Bench:
    """The class to measure: an existing one, or a class of `students` students in the BENCH
    school with a full term I of marks (built once, reused by later runs)."""
    from schools.models import ClassGroup, TeachingAssignment

    if class_pk is not None:
        class_group = ClassGroup.objects.select_related("year__school").get(pk=class_pk)
        assignment = (
            TeachingAssignment.objects.filter(class_group=class_group)
            .select_related("teacher", "subject")
            .order_by("subject__order")
            .first()
        )
        return Bench(class_group, assignment.subject, assignment.teacher)
    return _build_class(students)


def _build_class(students: int) -> Bench:
    from django.db import transaction

    from accounts.models import Membership, Role, User
    from gradebook.demo import seed_class_marks
    from schools.models import ClassGroup, TeachingAssignment

    with transaction.atomic():
        school = bench_school(BENCH_SCHOOL, "Trường THCS Benchmark")
        teacher, _ = User.objects.get_or_create(
            username="bench.teacher", defaults={"full_name": "Giáo viên Benchmark"}
        )
        Membership.objects.get_or_create(user=teacher, school=school, role=Role.TEACHER)
        class_group, new_class = ClassGroup.objects.get_or_create(
            year=school.current_year(), name=f"6B{students}", defaults={"grade": 6}
        )
        subject = school.subjects.get(code=BENCH_SUBJECT)
        TeachingAssignment.objects.get_or_create(
            teacher=teacher, class_group=class_group, subject=subject
        )
        if new_class:
            _add_students(class_group, students)
    written = seed_class_marks(class_group, terms=(1,))
    if written:
        print(f"Built class {class_group.name}: {students} students, {written} marks (term I).")
    return Bench(class_group, subject, teacher)


def bench_school(code: str, name: str):
    """A lower secondary school with the current school year (created once, then reused)."""
    from django.db import transaction

    from schools.demo import school_year_start
    from schools.models import School, SchoolLevel
    from schools.services import create_school_year

    with transaction.atomic():
        school, created = School.objects.get_or_create(
            code=code,
            defaults={"name": name, "department_code": "01", "level": SchoolLevel.LOWER_SECONDARY},
        )
        if created:
            start = school_year_start(datetime.date.today())
            create_school_year(
                school=school,
                start_year=start,
                term1=(datetime.date(start, 9, 5), datetime.date(start + 1, 1, 15)),
                term2=(datetime.date(start + 1, 1, 19), datetime.date(start + 1, 5, 25)),
            )
    return school


def _add_students(class_group: object, count: int) -> None:
    from schools.models import Enrollment, Student
    from schools.services import renumber_class
    from schools.validators import personal_id_century_digit

    school = class_group.year.school
    serial = Student.objects.filter(school=school).count()
    for index in range(count):
        serial += 1
        sex = "MF"[index % 2]
        born = datetime.date(2014, 1, 1) + datetime.timedelta(days=index * 7)
        pid = f"001{personal_id_century_digit(sex=sex, date_of_birth=born)}14{serial:06d}"
        student = Student.objects.create(
            school=school,
            full_name=f"Học Sinh {serial:04d}",
            sex=sex,
            date_of_birth=born,
            personal_id=pid,
            student_code=f"BENCH{serial:06d}",
        )
        Enrollment.objects.create(student=student, class_group=class_group)
    renumber_class(class_group=class_group)


def summary(label: str, seconds: list[float], queries: list[int] | None = None) -> str:
    """Median, p95, min and max in milliseconds, and the queries per request."""
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    line = (
        f"{label}: n={len(ms)} median={statistics.median(ms):.1f} ms p95={p95:.1f} ms "
        f"min={ms[0]:.1f} ms max={ms[-1]:.1f} ms"
    )
    if queries:
        line += f" queries/request={min(queries)}" + (
            f"–{max(queries)}" if max(queries) != min(queries) else ""
        )
    return line


def environment() -> str:
    from django.conf import settings
    from django.db import connection

    return (
        f"database={connection.vendor} ({settings.DATABASES['default']['NAME']}) "
        f"DEBUG={settings.DEBUG} python={sys.version.split()[0]} cpus={os.cpu_count()}"
    )
