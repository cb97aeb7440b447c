"""Demo schools: a lower-secondary school, a primary school and, on request, a large school for
benchmarks. Deterministic (seeded) and idempotent: running it again changes nothing."""

from __future__ import annotations

import datetime
import random
import secrets
from dataclasses import dataclass, field

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth.hashers import make_password
from django.db import transaction

from accounts.models import Membership, Role, User
from schools.models import (
    ClassGroup,
    Department,
    DepartmentMembership,
    Enrollment,
    School,
    SchoolLevel,
    SchoolYear,
    Student,
    SubjectChoice,
    TeachingAssignment,
)
from schools.programme import takes
from schools.services import create_school_year, renumber_class
from schools.subject_choices import set_choices
from schools.validators import personal_id_century_digit

FAMILY = ["Nguyễn"] * 8 + ["Trần"] * 3 + ["Lê"] * 3 + ["Phạm"] * 2 + [
    "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý",
    "Đinh", "Trịnh", "Lương", "Mai", "Tạ", "Đoàn",
]  # fmt: skip
MIDDLE = {
    "M": ["Văn", "Đức", "Minh", "Quốc", "Hữu", "Gia", "Anh", "Thành", "Hoàng", "Trọng", "Đăng"],
    "F": ["Thị", "Ngọc", "Thu", "Thanh", "Khánh", "Bảo", "Phương", "Minh", "Thùy", "Hồng", "Diệu"],
}
GIVEN = {
    "M": ["An", "Bảo", "Cường", "Dũng", "Duy", "Đạt", "Hải", "Hiếu", "Hoàng", "Huy", "Hưng",
          "Khang", "Khoa", "Kiên", "Long", "Lộc", "Minh", "Nam", "Nghĩa", "Phong", "Phúc", "Quân",
          "Quang", "Sơn", "Tài", "Thắng", "Thịnh", "Tiến", "Trung", "Tuấn", "Việt", "Vinh", "Vũ"],
    "F": ["An", "Anh", "Chi", "Diệp", "Dung", "Giang", "Hà", "Hạnh", "Hằng", "Hiền", "Hoa",
          "Hương", "Huyền", "Lan", "Linh", "Mai", "My", "Ngân", "Ngọc", "Nhi", "Nhung", "Oanh",
          "Phương", "Quỳnh", "Thảo", "Thư", "Trang", "Trâm", "Uyên", "Vân", "Vy", "Yến"],
}  # fmt: skip
PLACES = ["Hà Nội", "Hà Nội", "Hà Nội", "Nam Định", "Thái Bình", "Hưng Yên", "Bắc Ninh", "Nghệ An"]
ETHNIC = ["Kinh"] * 30 + ["Tày", "Mường", "Thái", "H'Mông", "Ê Đê"]


@dataclass
class DemoLogin:
    """An account the demo features (the start-up banner lists them all): every signer and
    exporter of a demo school that a demo flow uses, and a subject teacher."""

    username: str
    role: str
    school: str
    totp_secret: str = ""


@dataclass
class DemoResult:
    password: str | None  # None when the demo already existed
    logins: list[DemoLogin] = field(default_factory=list)


def school_year_start(today: datetime.date) -> int:
    """A Vietnamese school year starts in September."""
    return today.year if today.month >= 8 else today.year - 1


def _person_name(rng: random.Random, sex: str) -> str:
    return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE[sex])} {rng.choice(GIVEN[sex])}"


class _Seeder:
    def __init__(self, *, password: str, start_year: int) -> None:
        self.password_hash = make_password(password)  # hashed once, not once per account
        self.start_year = start_year
        self.logins: list[DemoLogin] = []

    def user(self, username: str, full_name: str, *, school: School, role: str) -> User:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"full_name": full_name, "email": f"{username}@demo.invalid"},
        )
        if created:
            user.password = self.password_hash
            user.save(update_fields=["password"])
        Membership.objects.get_or_create(user=user, school=school, role=role)
        return user

    def enrol_totp(self, user: User, school: School, role: str, *, show: bool = True) -> None:
        """Signers must have MFA: give demo signers a TOTP secret so the demo works at once."""
        secret = ""
        if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
            secret = generate_totp_secret()
            TOTP.activate(user, secret)
        if show:
            self.logins.append(DemoLogin(user.username, role, school.code, secret))

    def feature(self, user: User, school: School, role: str) -> None:
        """An account without two-factor authentication that the banner lists too."""
        self.logins.append(DemoLogin(user.username, role, school.code))

    def year(self, school: School) -> SchoolYear:
        existing = school.years.filter(start_year=self.start_year).first()
        if existing:
            return existing
        y = self.start_year
        return create_school_year(
            school=school,
            start_year=y,
            term1=(datetime.date(y, 9, 5), datetime.date(y + 1, 1, 15)),
            term2=(datetime.date(y + 1, 1, 19), datetime.date(y + 1, 5, 25)),
        )

    def students(
        self,
        *,
        school: School,
        class_group: ClassGroup,
        count: int,
        rng: random.Random,
        serial: int,
    ) -> int:
        if class_group.enrollments.exists():
            return serial
        age = 5 + class_group.grade
        enrollments = []
        for _ in range(count):
            sex = rng.choice("MF")
            dob = datetime.date(self.start_year - age, 1, 1) + datetime.timedelta(
                rng.randrange(365)
            )
            serial += 1
            pid = (
                "001"
                + personal_id_century_digit(sex=sex, date_of_birth=dob)
                + f"{dob.year % 100:02d}"
                + f"{(serial * 7919 + rng.randrange(1000)) % 1_000_000:06d}"
            )
            student = Student.objects.create(
                school=school,
                full_name=_person_name(rng, sex),
                sex=sex,
                date_of_birth=dob,
                place_of_birth=rng.choice(PLACES),
                ethnicity=rng.choice(ETHNIC),
                personal_id=pid,
                student_code=f"{school.code[-4:]}{serial:06d}",
                residence=f"Số {rng.randrange(1, 200)}, phường Cầu Giấy, Hà Nội",
                father_name=_person_name(rng, "M"),
                mother_name=_person_name(rng, "F"),
                guardian_phone=f"09{rng.randrange(10**8):08d}",
            )
            enrollments.append(Enrollment(student=student, class_group=class_group))
        Enrollment.objects.bulk_create(enrollments)
        renumber_class(class_group=class_group)
        return serial


def _secondary_school(
    seeder: _Seeder,
    *,
    code: str,
    name: str,
    prefix: str,
    classes_per_grade: int,
    size: tuple[int, int],
    total_students: int | None = None,
    level: str = SchoolLevel.LOWER_SECONDARY,
) -> None:
    rng = random.Random(code)
    school, _ = School.objects.get_or_create(
        code=code,
        defaults={
            "name": name,
            "department_code": "01",
            "level": level,
            "address": "Phường Cầu Giấy, Hà Nội",
            "province": "Hà Nội",
        },
    )
    year = seeder.year(school)
    admin = seeder.user(f"{prefix}admin", "Phạm Thu Hằng", school=school, role=Role.ADMIN)
    seeder.enrol_totp(admin, school, "admin")  # exporting seals the package: MFA
    principal = seeder.user(
        f"{prefix}hieutruong", "Nguyễn Văn Bình", school=school, role=Role.PRINCIPAL
    )
    seeder.enrol_totp(principal, school, "principal")
    vice = seeder.user(
        f"{prefix}phohieutruong", "Lê Thị Hoa", school=school, role=Role.VICE_PRINCIPAL
    )
    seeder.enrol_totp(vice, school, "vice_principal")

    first_grade = school.grades[0]
    curriculum = list(year.curriculum.select_related("subject").filter(grade=first_grade))
    subjects = [entry.subject for entry in curriculum]
    # Two teachers per subject; teacher i of a subject teaches half the classes.
    teachers = {}
    for subject in subjects:
        for k in (1, 2):
            username = f"{prefix}gv.{subject.code.lower()}{k}"
            full = _person_name(random.Random(username), rng.choice("MF"))
            teachers[(subject.code, k)] = seeder.user(
                username, full, school=school, role=Role.TEACHER
            )
    maths = teachers.get(("TOAN", 1))
    if maths is not None:
        seeder.feature(maths, school, "teacher Toán")
    serial = 0
    grades = list(school.grades)
    per_grade = classes_per_grade
    sizes: list[int] | None = None
    if total_students:
        per_grade = -(-total_students // (45 * len(grades)))  # classes of at most 45
        n_classes = per_grade * len(grades)
        sizes = [
            total_students // n_classes + (i < total_students % n_classes) for i in range(n_classes)
        ]
    class_index = 0
    for grade in grades:
        for number in range(1, per_grade + 1):
            homeroom_subject = subjects[class_index % len(subjects)]
            homeroom = teachers[(homeroom_subject.code, 1 + class_index % 2)]
            class_group, _ = ClassGroup.objects.get_or_create(
                year=year,
                name=f"{grade}A{number}",
                defaults={"grade": grade, "homeroom_teacher": homeroom},
            )
            offered = _offered(class_group) if school.level == SchoolLevel.UPPER_SECONDARY else None
            for entry in year.curriculum.filter(grade=grade).select_related("subject"):
                teacher = teachers.get((entry.subject.code, 1 + number % 2))
                if offered is not None and not takes(entry.subject.code, offered):
                    continue  # an elective none of the class's combinations has
                if teacher:
                    TeachingAssignment.objects.get_or_create(
                        teacher=teacher, class_group=class_group, subject=entry.subject
                    )
            count = sizes[class_index] if sizes else rng.randint(*size)
            class_index += 1
            serial = seeder.students(
                school=school, class_group=class_group, count=count, rng=rng, serial=serial
            )
            if offered is not None:
                _choose_subjects(class_group)
    for class_group in year.classes.exclude(homeroom_teacher=None).select_related(
        "homeroom_teacher"
    ):
        featured = class_group.name == f"{grades[0]}A1"
        teacher = class_group.homeroom_teacher
        assert teacher is not None  # the classes without one are excluded
        seeder.enrol_totp(teacher, school, f"homeroom {class_group.name}", show=featured)


def _primary_school(seeder: _Seeder, *, code: str, name: str, prefix: str) -> None:
    rng = random.Random(code)
    school, _ = School.objects.get_or_create(
        code=code,
        defaults={
            "name": name,
            "department_code": "01",
            "level": SchoolLevel.PRIMARY,
            "address": "Phường Nghĩa Đô, Hà Nội",
            "province": "Hà Nội",
        },
    )
    year = seeder.year(school)
    admin = seeder.user(f"{prefix}admin", "Vũ Minh Tuấn", school=school, role=Role.ADMIN)
    seeder.enrol_totp(admin, school, "admin")
    principal = seeder.user(f"{prefix}hieutruong", "Đỗ Thị Lan", school=school, role=Role.PRINCIPAL)
    seeder.enrol_totp(principal, school, "principal")
    specialists = {}
    for code_ in ("NN1", "GDTC", "AN", "MT", "THCN"):
        username = f"{prefix}gv.{code_.lower()}"
        specialists[code_] = seeder.user(
            username, _person_name(random.Random(username), "F"), school=school, role=Role.TEACHER
        )
    serial = 0
    for grade in school.grades:
        for number in (1, 2):
            username = f"{prefix}gvcn.{grade}a{number}"
            homeroom = seeder.user(
                username,
                _person_name(random.Random(username), "F"),
                school=school,
                role=Role.TEACHER,
            )
            class_group, _ = ClassGroup.objects.get_or_create(
                year=year,
                name=f"{grade}A{number}",
                defaults={"grade": grade, "homeroom_teacher": homeroom},
            )
            for entry in year.curriculum.filter(grade=grade).select_related("subject"):
                teacher = specialists.get(entry.subject.code, homeroom)
                TeachingAssignment.objects.get_or_create(
                    teacher=teacher, class_group=class_group, subject=entry.subject
                )
            serial = seeder.students(
                school=school,
                class_group=class_group,
                count=rng.randint(30, 35),
                rng=rng,
                serial=serial,
            )
            featured = grade == 1 and number == 1
            seeder.enrol_totp(homeroom, school, f"homeroom {class_group.name}", show=featured)


SECONDARY_CODE, PRIMARY_CODE, LARGE_CODE = "01001001", "01002002", "01009999"
UPPER_CODE = "01003003"

#: The upper-secondary demo school's combinations (tổ hợp môn): four electives, and the three
#: subjects whose learning-topic clusters go with them (schools/programme.py).
COMBINATIONS = {
    "natural sciences": ({"VL", "HH", "SH", "TIN"}, {"TOAN", "VL", "HH"}),
    "social sciences": ({"DL", "GDKTPL", "CN", "TIN"}, {"NV", "DL", "GDKTPL"}),
    "technology and arts": ({"VL", "CN", "TIN", "MT"}, {"TOAN", "VL", "CN"}),
}
#: The class with two combinations (10A1: natural sciences and social sciences, one student
#: of two each); every other class has one, in turn.
MIXED_CLASS = "10A1"


def _combinations(class_group: ClassGroup) -> list[str]:
    names = list(COMBINATIONS)
    if class_group.name == MIXED_CLASS:
        return names[:2]
    index = (class_group.grade * 2 + int(class_group.name.rsplit("A", 1)[-1])) % len(names)
    return [names[index]]


def _offered(class_group: ClassGroup) -> set[str]:
    """The electives of the class's combinations."""
    return {code for name in _combinations(class_group) for code in COMBINATIONS[name][0]}


def _choose_subjects(class_group: ClassGroup) -> None:
    """Each student's electives and clusters: the class's combination, or (the mixed class)
    the two in turn by roll number. Unless the class has choices already."""
    year = class_group.year
    students = list(
        class_group.enrollments.order_by("roll_number").values_list("student_id", flat=True)
    )
    if SubjectChoice.objects.filter(year=year, student_id__in=students).exists():
        return
    names = _combinations(class_group)
    set_choices(
        year=year,
        grade=class_group.grade,
        choices={s: COMBINATIONS[names[i % len(names)]] for i, s in enumerate(students)},
    )


DEMO_DISTRICT = "Quận Cầu Giấy"
DEPARTMENT_USERNAME = "so_gddt"


def _department(seeder: _Seeder) -> None:
    """The Department over the demo schools (department code 01) and its account, which reads
    the province's dashboard and so uses two-factor authentication (docs/department.md)."""
    department, _ = Department.objects.get_or_create(
        code="01",
        defaults={"name": "Sở Giáo dục và Đào tạo Hà Nội", "province": "Hà Nội"},
    )
    School.objects.filter(department_code=department.code, district="").update(
        district=DEMO_DISTRICT
    )
    user, created = User.objects.get_or_create(
        username=DEPARTMENT_USERNAME,
        defaults={"full_name": "Trần Quốc Khánh", "email": f"{DEPARTMENT_USERNAME}@demo.invalid"},
    )
    if created:
        user.password = seeder.password_hash
        user.save(update_fields=["password"])
    DepartmentMembership.objects.get_or_create(user=user, department=department)
    secret = ""
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        secret = generate_totp_secret()
        TOTP.activate(user, secret)
    seeder.logins.append(DemoLogin(user.username, "department", department.code, secret))


def _generated_password() -> str:
    """A random password that does not start with '-' (a command line would read it as an
    option)."""
    while True:
        password = secrets.token_urlsafe(9)
        if password[0].isalnum():
            return password


@transaction.atomic
def seed_demo(
    *, today: datetime.date, large_students: int | None = None, password: str | None = None
) -> DemoResult:
    """Create the demo schools if missing. Accounts created now get `password`, or a generated
    one that is returned once and stored nowhere in clear."""
    password = password or _generated_password()
    created_before = set(User.objects.values_list("username", flat=True))
    seeder = _Seeder(password=password, start_year=school_year_start(today))
    _secondary_school(
        seeder,
        code=SECONDARY_CODE,
        name="Trường THCS Nguyễn Du",
        prefix="",
        classes_per_grade=2,
        size=(35, 45),
    )
    _primary_school(seeder, code=PRIMARY_CODE, name="Trường Tiểu học Kim Đồng", prefix="th.")
    _secondary_school(
        seeder,
        code=UPPER_CODE,
        name="Trường THPT Chu Văn An",
        prefix="thpt.",
        classes_per_grade=2,
        size=(36, 42),
        level=SchoolLevel.UPPER_SECONDARY,
    )
    if large_students:
        _secondary_school(
            seeder,
            code=LARGE_CODE,
            name="Trường THCS Lê Quý Đôn (benchmark)",
            prefix="lqd.",
            classes_per_grade=0,
            size=(45, 45),
            total_students=large_students,
        )
    _department(seeder)
    new_accounts = set(User.objects.values_list("username", flat=True)) - created_before
    return DemoResult(password=password if new_accounts else None, logins=seeder.logins)
