"""Demo marks: a plausible full school year for the demo schools (and the benchmark school).

Every student gets an ability; marks vary around it. A few students are award cases (most
marks ≥ 9), a few need a summer re-assessment (one subject's year average below 5), one is
retained for absences (more than 45 sessions); conduct is mostly T/K, comment-assessed subjects
mostly D. One class (9A2 of the lower-secondary school) is left half-finished, so the completion
dashboard has something to show and the demo teacher (gv.toan1) something to type.

Speed: a demo year is ~100,000 cells. `save_mark` writes one cell in ~10 queries, far too slow,
so this module writes marks and their ledger events with `bulk_create`, building exactly the
chain `gradebook.ledger.append_event` builds (same seq numbering, same `event_digest`, the
school's LedgerHead locked and moved once at the end), all in the caller's transaction:
`manage.py verify_ledger` verifies the result like any other history. It only ever creates new
cells, so it is for seeding, never for changing marks.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import Role, User
from gradebook.columns import Column, canonical_value, format_score, homeroom_columns
from gradebook.columns import subject_columns as columns_of_subject
from gradebook.ledger import GENESIS, cell_digest, event_digest
from gradebook.models import (
    YEAR_TERM,
    CommentPhrase,
    EventSource,
    Exemption,
    ExemptionState,
    Kind,
    LedgerHead,
    Mark,
    MarkEvent,
)
from gradebook.results import SecondaryStudentResults, class_results
from gradebook.rules.codes import NextStep
from gradebook.study_plan import StudyPlan
from gradebook.summer import Writers, reassessment_column, save_summer_mark
from schools.demo import LARGE_CODE, PRIMARY_CODE, SECONDARY_CODE, UPPER_CODE
from schools.models import (
    Assessment,
    ClassGroup,
    CurriculumEntry,
    School,
    SchoolLevel,
    SchoolYear,
    Student,
    TeachingAssignment,
)
from schools.programme import is_upper_secondary

BATCH = 2000  # rows per bulk_create call (Django splits further to the database's limits)
HALF_FINISHED_CLASS = "9A2"  # of the lower-secondary demo school
COMMENT_LIMIT = 300

SUBJECT_COMMENTS = {
    "good": (
        "Tiếp thu bài nhanh, vận dụng tốt kiến thức đã học.",
        "Học tập chăm chỉ, kết quả tốt; cần phát huy.",
        "Tích cực phát biểu xây dựng bài, trình bày cẩn thận.",
    ),
    "fair": (
        "Nắm được kiến thức cơ bản, cần chủ động hơn trong giờ học.",
        "Có cố gắng, cần rèn thêm kĩ năng trình bày bài làm.",
        "Tiến bộ so với đầu học kì, cần duy trì.",
    ),
    "pass": (
        "Nắm kiến thức cơ bản ở mức đạt; cần ôn tập thường xuyên hơn.",
        "Cần tập trung hơn trong giờ học và làm đủ bài tập về nhà.",
    ),
    "weak": (
        "Chưa nắm vững kiến thức cơ bản; cần được phụ đạo thêm.",
        "Cần cố gắng nhiều hơn, hỏi lại thầy cô khi chưa hiểu bài.",
    ),
    "D": (
        "Tham gia đầy đủ, tích cực các hoạt động của môn học.",
        "Hoàn thành các nội dung học tập; có ý thức rèn luyện.",
    ),
    "CD": ("Chưa hoàn thành một số nội dung; cần cố gắng hơn.",),
}
HOMEROOM_COMMENTS = {
    "T": (
        "Ngoan, lễ phép, có ý thức tự giác trong học tập.",
        "Chăm chỉ, hòa đồng, tích cực tham gia hoạt động của lớp.",
    ),
    "K": (
        "Chấp hành tốt nội quy; cần mạnh dạn hơn trong hoạt động tập thể.",
        "Có ý thức học tập; cần chú ý hơn trong giờ học.",
    ),
    "D": ("Cần nghiêm túc hơn trong giờ học và thực hiện đúng nội quy.",),
    "CD": ("Vi phạm nội quy nhiều lần; cần rèn luyện thêm ý thức kỉ luật.",),
}
PRIMARY_COMMENTS = {
    "HTT": (
        "Em hoàn thành tốt các nội dung học tập, trình bày sạch đẹp.",
        "Em tiếp thu bài nhanh, mạnh dạn phát biểu.",
    ),
    "HT": (
        "Em hoàn thành các nội dung học tập; cần cẩn thận hơn khi làm bài.",
        "Em có tiến bộ; cần luyện thêm ở nhà.",
    ),
    "CHT": ("Em chưa hoàn thành một số nội dung; cần luyện tập thêm với sự giúp đỡ của cô.",),
}
PRIMARY_HOMEROOM_COMMENTS = (
    "Em ngoan, lễ phép, biết giúp đỡ bạn bè.",
    "Em chăm chỉ, tự giác; cần mạnh dạn hơn khi phát biểu.",
    "Em hòa đồng, tích cực tham gia các hoạt động của lớp.",
)
PRIMARY_LEVELS, SECONDARY_LEVELS = {"HTT", "HT", "CHT"}, {"T", "K", "D", "CD"}
BANK = (  # (subject code or "", level, phrase) for the demo schools' comment banks
    ("", "T", "{name} tiếp thu bài nhanh, vận dụng tốt kiến thức đã học."),
    ("", "K", "{name} nắm được kiến thức cơ bản, cần chủ động hơn trong giờ học."),
    ("", "D", "{name} cần ôn tập thường xuyên hơn và làm đủ bài tập về nhà."),
    ("", "CD", "{name} chưa nắm vững kiến thức cơ bản; cần được phụ đạo thêm."),
    ("TOAN", "T", "{name} tính toán nhanh, chính xác, trình bày lời giải rõ ràng."),
    ("NV", "T", "{name} viết văn mạch lạc, diễn đạt trôi chảy, có cảm xúc."),
    ("", "HTT", "Em {name} hoàn thành tốt các nội dung học tập, trình bày sạch đẹp."),
    ("", "HT", "Em {name} hoàn thành các nội dung học tập; cần cẩn thận hơn khi làm bài."),
    ("", "CHT", "Em {name} chưa hoàn thành một số nội dung; cần luyện tập thêm."),
)


# --- Students' demo profiles ------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    """How a demo student does: `ability` is the mean of their marks on the 10-point scale."""

    ability: float
    spread: float = 1.0  # standard deviation of a single mark around the subject's mean
    award: bool = False
    # Re-assessment case: (subject code, year average it ends near), e.g. one subject below
    # 3.5 and one below 5, so that no single-subject adjustment saves the learning level.
    weak: tuple[tuple[str, float], ...] = ()
    retained: bool = False  # more than 45 sessions absent


def _profiles(
    students: list[Student], scored: list[str], rng: random.Random, *, cases: bool
) -> dict[int, Profile]:
    """A profile per student; with `cases`, one award case in ~25 students and one
    re-assessment case in a class, and one student retained for absences."""
    profiles = {s.pk: Profile(ability=min(9.4, max(5.2, rng.gauss(7.1, 1.0)))) for s in students}
    order = [s.pk for s in students]
    rng.shuffle(order)
    if not cases or len(order) < 10:
        return profiles
    for pk in order[: max(1, len(order) // 25)]:
        profiles[pk] = Profile(ability=rng.uniform(9.3, 9.7), spread=0.45, award=True)
    if len(scored) >= 2:
        first, second = rng.sample(scored, 2)
        # able enough elsewhere that the two weak subjects are, as a rule, the only ones due
        profiles[order[-1]] = Profile(ability=7.0, weak=((first, 3.0), (second, 4.4)))
    return profiles


# --- Values -----------------------------------------------------------------------------------


def _score(rng: random.Random, mean: float, spread: float, *, whole: bool) -> str:
    """A plausible typed score around `mean`: regular marks mostly whole, tests in halves."""
    raw = min(10.0, max(0.0, rng.gauss(mean, spread)))
    if whole and rng.random() < 0.75:
        tenths = round(raw) * 10
    elif rng.random() < 0.8:
        tenths = round(raw * 2) * 5
    else:
        tenths = round(raw * 10)
    return format_score(Decimal(min(100, tenths)).scaleb(-1))


def _band(mean: float) -> str:
    if mean >= 8:
        return "good"
    if mean >= 6.5:
        return "fair"
    return "pass" if mean >= 5 else "weak"


def _conduct(rng: random.Random, profile: Profile) -> str:
    if profile.award:
        return "T"
    roll = rng.random() + (0.15 if profile.ability >= 7.5 else 0)
    if roll > 0.4:
        return "T"
    if roll > 0.12:
        return "K"
    return "D" if roll > 0.02 else "CD"


def _absences(rng: random.Random, profile: Profile, term: int) -> tuple[int, int]:
    """(excused, unexcused) sessions in a term: mostly 0–6 together."""
    if profile.retained:
        return (21, 6) if term == 1 else (17, 5)
    excused = rng.choices((0, 1, 2, 3, 4, 5, 6, 8), weights=(40, 18, 14, 10, 7, 5, 4, 2))[0]
    unexcused = rng.choices((0, 1, 2, 3), weights=(85, 9, 4, 2))[0]
    return excused, unexcused


# --- One class --------------------------------------------------------------------------------


@dataclass
class _ClassPlan:
    """What to fill in one class: which terms, and which cells of a term to leave empty."""

    class_group: ClassGroup
    entries: list[CurriculumEntry]
    primary: bool
    terms: tuple[int, ...] = (1, 2)
    keep: Callable[[Column, int], bool] = lambda column, subject_index: True
    homeroom_terms: tuple[int, ...] = (1, 2)
    cases: bool = True  # award and re-assessment cases
    retained_roll: int = 0  # roll number of a student retained for absences (0: none)


def _half_finished(column: Column, subject_index: int) -> bool:
    """Term II of the half-finished class: two regular marks, a mid-term in every other
    subject, nothing else yet."""
    if column.term == 1:
        return True
    if column.kind == Kind.REGULAR:
        return column.slot in ("1", "2")
    return column.kind == Kind.MIDTERM and subject_index % 2 == 0


def _secondary_subject_values(
    rng: random.Random, entry: CurriculumEntry, profile: Profile, columns: list[Column]
) -> dict[str, str]:
    """Values of one student's cells in one subject, both terms (column key → text)."""
    values: dict[str, str] = {}
    if entry.assessment == Assessment.COMMENT:
        fail = 0.03 if profile.ability < 5.5 else 0.004
        for column in columns:
            if column.kind == Kind.COMMENT:
                levels = [c for c in columns if c.term == column.term and c.kind != Kind.COMMENT]
                passed = all(values.get(c.key) == "D" for c in levels)
                values[column.key] = rng.choice(SUBJECT_COMMENTS["D" if passed else "CD"])
            else:
                values[column.key] = "CD" if rng.random() < fail else "D"
        return values
    weak = dict(profile.weak).get(entry.subject.code)
    offset = rng.gauss(0, 0.3 if profile.award else 0.6)
    mean = weak if weak is not None else min(9.8, profile.ability + offset)
    for column in columns:
        drift = rng.gauss(0.2, 0.3) if column.term == 2 and weak is None else 0
        term_mean = mean + drift
        if column.kind == Kind.COMMENT:
            values[column.key] = rng.choice(SUBJECT_COMMENTS[_band(term_mean)])
        else:
            whole = column.kind == Kind.REGULAR
            spread = 0.5 if weak is not None else profile.spread
            values[column.key] = _score(rng, term_mean, spread, whole=whole)
    return values


def _primary_level(score: float) -> str:
    if score >= 7.8:
        return "HTT"
    return "HT" if score >= 5 else "CHT"


def _primary_subject_values(
    rng: random.Random, entry: CurriculumEntry, profile: Profile, columns: list[Column]
) -> dict[str, str]:
    """Levels HTT/HT/CHT, whole-number tests and a comment (Circular 27)."""
    values: dict[str, str] = {}
    mean = min(9.9, profile.ability + 0.8 + rng.gauss(0, 0.5))
    for column in columns:
        term_mean = mean + (0.2 if column.term == 2 else 0)
        if column.kind == Kind.TEST:
            values[column.key] = str(round(min(10.0, max(2.0, rng.gauss(term_mean, 0.9)))))
        elif column.kind == Kind.LEVEL:
            values[column.key] = _primary_level(rng.gauss(term_mean, 0.5 * profile.spread))
        else:
            level = values.get(f"{column.term}:{Kind.LEVEL}:end", "HT")
            values[column.key] = rng.choice(PRIMARY_COMMENTS[level])
    return values


def _homeroom_values(
    rng: random.Random, profile: Profile, columns: list[Column], *, primary: bool
) -> dict[str, str]:
    values: dict[str, str] = {}
    for column in columns:
        if column.kind in (Kind.QUALITY, Kind.COMPETENCY):
            score = rng.gauss(profile.ability + 0.6, 0.8)
            values[column.key] = "T" if score >= 7 else ("D" if score >= 4.2 else "CCG")
        elif column.kind == Kind.CONDUCT:
            values[column.key] = _conduct(rng, profile)
        elif column.kind == Kind.ABSENT_EXCUSED:
            excused, unexcused = _absences(rng, profile, column.term)
            values[column.key] = str(excused)
            values[f"{column.term}:{Kind.ABSENT_UNEXCUSED}:"] = str(unexcused)
        elif column.kind == Kind.HOMEROOM_COMMENT:
            if primary:
                values[column.key] = rng.choice(PRIMARY_HOMEROOM_COMMENTS)
            else:
                conduct = values.get(f"{column.term}:{Kind.CONDUCT}:", "K")
                values[column.key] = rng.choice(HOMEROOM_COMMENTS[conduct])
    return values


# --- Writing: marks and their ledger events in bulk -------------------------------------------


class BulkLedger:
    """Creates new cells and their first ledger events in bulk, for one school, chaining the
    events exactly as `append_event` does. Use inside a transaction; call `close()` at the end
    to move the school's chain head."""

    def __init__(self, school: School, *, at: datetime.datetime | None = None) -> None:
        self.school_id = school.pk
        self.at = at or timezone.now()
        LedgerHead.objects.get_or_create(school_id=school.pk, defaults={"hash": GENESIS})
        self.head = LedgerHead.objects.select_for_update().get(school_id=school.pk)
        self.seq, self.hash = self.head.seq, self.head.hash
        self.pending: list[Mark] = []
        self.written = 0

    def add(
        self,
        *,
        year: SchoolYear,
        student_id: int,
        column: Column,
        value: str,
        actor_id: int | None,
    ) -> None:
        self.pending.append(
            Mark(
                school_id=self.school_id,
                year_id=year.pk,
                term=column.term,
                student_id=student_id,
                subject_id=column.subject_id,
                kind=column.kind,
                slot=column.slot,
                value=value,
                version=1,
                updated_at=self.at,
                updated_by_id=actor_id,
            )
        )
        if len(self.pending) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        marks = Mark.objects.bulk_create(self.pending)
        events = []
        for mark in marks:
            if mark.pk is None:  # only databases that return new keys can chain in bulk
                raise RuntimeError("bulk_create did not return primary keys")
            self.seq += 1
            event = MarkEvent(
                school_id=self.school_id,
                seq=self.seq,
                mark_id=mark.pk,
                cell=cell_digest(mark),
                old_value="",
                new_value=mark.value,
                version=mark.version,
                actor_id=mark.updated_by_id,
                at=self.at,
                reason="",
                source=EventSource.SEED,
                client_ip=None,
                prev_hash=self.hash,
            )
            event.hash = self.hash = event_digest(event)
            events.append(event)
        MarkEvent.objects.bulk_create(events)
        self.written += len(marks)
        self.pending = []

    def close(self) -> int:
        """Write what is pending and move the chain head; returns the number of cells."""
        self.flush()
        self.head.seq, self.head.hash = self.seq, self.hash
        self.head.save(update_fields=["seq", "hash"])
        return self.written


def _fill_class(ledger: BulkLedger, plan: _ClassPlan, rng: random.Random) -> None:
    class_group = plan.class_group
    enrollments = class_group.enrollments.filter(left_on__isnull=True).select_related("student")
    students = [e.student for e in enrollments.order_by("roll_number")]
    scored = [e.subject.code for e in plan.entries if e.assessment == Assessment.SCORE]
    profiles = _profiles(students, scored, rng, cases=plan.cases)
    if plan.retained_roll and len(students) >= plan.retained_roll:
        student = students[plan.retained_roll - 1]
        profiles[student.pk] = Profile(ability=4.9, retained=True)
    teachers = dict(
        TeachingAssignment.objects.filter(class_group=class_group)
        .order_by("-pk")
        .values_list("subject_id", "teacher_id")
    )
    subject_values = _primary_subject_values if plan.primary else _secondary_subject_values
    exempt = Exemption.objects.approved_cells(  # (student, term, subject): no mark there
        year_id=class_group.year_id, student_ids=[s.pk for s in students]
    )
    chosen = None  # grades 10-12: each student's electives and clusters
    if is_upper_secondary(class_group.grade):
        chosen = StudyPlan.load(year_id=class_group.year_id, student_ids=[s.pk for s in students])
    for index, entry in enumerate(plan.entries):
        plain = [c for t in plan.terms for c in columns_of_subject(entry, t)]
        clusters = [c for t in plan.terms for c in columns_of_subject(entry, t, with_topics=True)]
        for student in students:
            columns = plain
            if chosen is not None:
                if not chosen.takes(student.pk, entry.subject.code):
                    continue
                if chosen.with_topics(student.pk, entry.subject.code):
                    columns = clusters
            if exempt:
                subject_id = entry.subject_id
                columns = [c for c in columns if (student.pk, c.term, subject_id) not in exempt]
            values = subject_values(rng, entry, profiles[student.pk], columns)
            _add_cells(
                ledger, plan, student, columns, values, teachers.get(entry.subject_id), index
            )
    columns = [
        c for t in plan.homeroom_terms for c in homeroom_columns(primary=plan.primary, term=t)
    ]
    for student in students:
        values = _homeroom_values(rng, profiles[student.pk], columns, primary=plan.primary)
        _add_cells(ledger, plan, student, columns, values, class_group.homeroom_teacher_id, 0)


def _add_cells(
    ledger: BulkLedger,
    plan: _ClassPlan,
    student: Student,
    columns: Iterable[Column],
    values: dict[str, str],
    actor_id: int | None,
    subject_index: int,
) -> None:
    for column in columns:
        text = values.get(column.key, "")
        if not text or not plan.keep(column, subject_index):
            continue
        value = canonical_value(text, value_type=column.value_type, max_length=COMMENT_LIMIT)
        ledger.add(
            year=plan.class_group.year,
            student_id=student.pk,
            column=column,
            value=value,
            actor_id=actor_id,
        )


# --- Entry points -----------------------------------------------------------------------------


def _curriculum(year: SchoolYear) -> dict[int, list[CurriculumEntry]]:
    by_grade: dict[int, list[CurriculumEntry]] = {}
    entries = year.curriculum.select_related("subject").order_by(
        "grade", "subject__order", "subject__code"
    )
    for entry in entries:
        by_grade.setdefault(entry.grade, []).append(entry)
    return by_grade


def _seed_comment_bank(school: School) -> None:
    if CommentPhrase.objects.filter(school=school).exists():
        return
    subjects = dict(school.subjects.values_list("code", "pk"))
    levels = PRIMARY_LEVELS if school.level == SchoolLevel.PRIMARY else SECONDARY_LEVELS
    CommentPhrase.objects.bulk_create(
        CommentPhrase(school=school, subject_id=subjects.get(code), level=level, text=text)
        for code, level, text in BANK
        if (not code or code in subjects) and level in levels
    )


@transaction.atomic
def seed_school_marks(school: School, *, half_finished: str = "") -> int:
    """Fill the school's current year with a full year of marks, unless it has marks already.
    Returns the number of cells written (0 when there was nothing to do)."""
    year = school.current_year()
    if year is None or Mark.objects.filter(year=year).exists():
        return 0
    _seed_comment_bank(school)
    rng = random.Random(f"marks:{school.code}")  # noqa: S311 — demo data, seeded on purpose
    curriculum = _curriculum(year)
    primary = school.level == SchoolLevel.PRIMARY
    ledger = BulkLedger(school)
    classes = list(year.classes.select_related("year").order_by("grade", "name"))
    for index, class_group in enumerate(classes):
        plan = _ClassPlan(class_group, curriculum.get(class_group.grade, []), primary)
        plan.cases = not primary
        plan.retained_roll = 7 if index == len(classes) // 2 and not primary else 0
        if class_group.name == half_finished:
            plan.keep, plan.homeroom_terms = _half_finished, (1,)
        _fill_class(ledger, plan, rng)
    return ledger.close()


@transaction.atomic
def seed_class_marks(class_group: ClassGroup, *, terms: tuple[int, ...] = (1, 2)) -> int:
    """Fill one class's cells for the given terms (benchmarks). The class must have no marks
    yet in those terms; the school's other classes are left alone."""
    year = class_group.year
    students = class_group.enrollments.values("student_id")
    if Mark.objects.filter(year=year, term__in=terms, student__in=students).exists():
        return 0
    primary = year.school.level == SchoolLevel.PRIMARY
    entries = _curriculum(year).get(class_group.grade, [])
    plan = _ClassPlan(class_group, entries, primary, terms=terms, homeroom_terms=terms)
    ledger = BulkLedger(year.school)
    _fill_class(ledger, plan, random.Random(f"marks:{class_group.pk}"))  # noqa: S311
    return ledger.close()


#: The lower-secondary demo school's exempt student (docs/gradebook.md#exemptions): this
#: class's student of this roll number, exempted from physical education for the whole year.
EXEMPTION_CLASS, EXEMPTION_ROLL, EXEMPTION_SUBJECT = "8A1", 3, "GDTC"


def seed_exemption(school: School) -> Exemption | None:
    """One approved whole-year exemption, asked for by the class's homeroom teacher and
    approved by the principal, made before the marks so that the exempt cells stay empty.
    None when the class, the student or the principal is missing, or one exists already."""
    year = school.current_year()
    if year is None:
        return None
    class_group = year.classes.filter(name=EXEMPTION_CLASS).first()
    principal = User.objects.filter(
        memberships__school=school, memberships__role=Role.PRINCIPAL
    ).first()
    if class_group is None or principal is None:
        return None
    enrollment = class_group.enrollments.filter(roll_number=EXEMPTION_ROLL).first()
    subject = school.subjects.filter(code=EXEMPTION_SUBJECT).first()
    if enrollment is None or subject is None or Exemption.objects.filter(year=year).exists():
        return None
    return Exemption.objects.create(
        school=school, year=year, class_group=class_group, student=enrollment.student,
        subject=subject, term=YEAR_TERM, reason="Bệnh tim bẩm sinh, không vận động mạnh",
        document="Giấy chứng nhận của Bệnh viện Nhi Trung ương số 1234/GCN",
        requested_by_id=class_group.homeroom_teacher_id or principal.pk,
        decided_by=principal, decided_at=timezone.now(), state=ExemptionState.APPROVED,
    )  # fmt: skip


#: The class of the lower-secondary demo school whose re-assessment case passes the summer.
SUMMER_CLASS = "9A1"
SUMMER_RESULTS = {"score": "6.5", "pass": "D"}  # a re-assessment that passes


@transaction.atomic
def seed_summer(school: School, *, class_name: str = SUMMER_CLASS) -> int:
    """The summer of one demo class (docs/gradebook.md#summer): its first student sent to
    re-assessment in two subjects (else in any number) is re-assessed by each subject's teacher
    through `gradebook.summer.save_summer_mark` and passes, so the year-end lists and the
    transcript show a student promoted after re-assessment. Unless the school's year has
    re-assessment results already. Returns the number of results entered."""
    year = school.current_year()
    if year is None:
        return 0
    class_group = year.classes.filter(name=class_name).select_related("year").first()
    if class_group is None or Mark.objects.filter(year=year, kind=Kind.REASSESSMENT).exists():
        return 0
    due = [
        s
        for s in class_results(class_group).students
        if isinstance(s, SecondaryStudentResults)
        and s.promotion is not None
        and s.promotion.next_step is NextStep.REASSESSMENT
    ]
    if not due:
        return 0
    student = next((s for s in due if len(s.summer_reassessment) == 2), due[0])
    writers = Writers.of(class_group)
    entered = 0
    for subject in (s.subject for s in student.subjects):
        if subject.code not in student.summer_reassessment:
            continue
        if writers.by_homeroom:
            teacher_id = writers.homeroom_teacher_id
        else:
            teacher_id = min(writers.subject_teachers.get(subject.pk, ()), default=None)
        if teacher_id is None:
            continue
        value_type = reassessment_column(subject).value_type
        save_summer_mark(
            actor=User.objects.get(pk=teacher_id), class_group=class_group,
            student=student.student, subject_id=subject.pk, text=SUMMER_RESULTS[value_type],
            base_version=None, source=EventSource.SEED,
        )  # fmt: skip
        entered += 1
    return entered


def seed_demo_marks() -> dict[str, int]:
    """Marks for every demo school present (school code → cells written; 0 = already there)."""
    written = {}
    for code in (SECONDARY_CODE, PRIMARY_CODE, LARGE_CODE, UPPER_CODE):
        school = School.objects.filter(code=code).first()
        if school is not None:
            half = HALF_FINISHED_CLASS if code == SECONDARY_CODE else ""
            if code == SECONDARY_CODE and not Mark.objects.filter(school=school).exists():
                seed_exemption(school)
            written[code] = seed_school_marks(school, half_finished=half)
            if code == SECONDARY_CODE and written[code]:
                seed_summer(school)
    return written
