from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, roles_changed
from config.text import search_folded
from schools.validators import validate_personal_id, validate_school_code


class SchoolLevel(models.TextChoices):
    PRIMARY = "primary", _("Primary (grades 1–5)")
    LOWER_SECONDARY = "lower_secondary", _("Lower secondary (grades 6–9)")
    UPPER_SECONDARY = "upper_secondary", _("Upper secondary (grades 10–12)")
    MULTI_LEVEL = "multi_level", _("Multi-level")
    CONTINUING = "continuing", _("Continuing education (GDTX)")


GRADES_BY_LEVEL: dict[str, range] = {
    SchoolLevel.PRIMARY: range(1, 6),
    SchoolLevel.LOWER_SECONDARY: range(6, 10),
    SchoolLevel.UPPER_SECONDARY: range(10, 13),
    SchoolLevel.MULTI_LEVEL: range(1, 13),
    SchoolLevel.CONTINUING: range(6, 13),  # GDTX follows the secondary rules
}


class School(models.Model):
    """The tenant: every row that belongs to a school reaches it in one or two hops."""

    name = models.CharField(_("name"), max_length=200)
    code = models.CharField(
        _("school code (mã trường)"), max_length=20, unique=True, validators=[validate_school_code]
    )
    department_code = models.CharField(_("Department code (mã Sở)"), max_length=10)
    level = models.CharField(_("level"), max_length=20, choices=SchoolLevel.choices)
    address = models.CharField(_("address"), max_length=300, blank=True)
    province = models.CharField(_("province"), max_length=100, blank=True)
    district = models.CharField(
        _("district"),
        max_length=100,
        blank=True,
        help_text=_("The district (quận, huyện) or area the Department groups the school under."),
    )
    place_name = models.CharField(
        _("place name (địa danh)"),
        max_length=100,
        blank=True,
        help_text=_(
            "Printed before the date where the principal signs a transcript, for example "
            "“Quận Ba Đình” or “Hà Nội”."
        ),
    )

    class Meta:
        verbose_name = _("school")
        verbose_name_plural = _("schools")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def grades(self) -> range:
        return GRADES_BY_LEVEL[self.level]

    def current_year(self) -> SchoolYear | None:
        return self.years.filter(is_current=True).first()


# Homeroom teachers of a current year's class sign, so must use two-factor authentication
# (schools/signers.py): whatever changes who they are marks the people concerned
# (`roles_changed`): the signals below for a save or a deletion, these querysets for the bulk
# writes, which send none.


class SchoolYearQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        if "is_current" not in kwargs:
            return super().update(**kwargs)
        years = list(self.values_list("pk", flat=True))
        count = super().update(**kwargs)
        roles_changed(_homeroom_teachers(ClassGroup.objects.filter(year__in=years)))
        return count


class ClassGroupQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        if not {"homeroom_teacher", "homeroom_teacher_id", "year", "year_id"} & set(kwargs):
            return super().update(**kwargs)
        before = _homeroom_teachers(self)
        count = super().update(**kwargs)
        new = kwargs.get("homeroom_teacher_id", getattr(kwargs.get("homeroom_teacher"), "pk", None))
        roles_changed(before | {new})
        return count

    def bulk_create(
        self, objs: Iterable[ClassGroup], *args: Any, **kwargs: Any
    ) -> list[ClassGroup]:
        created = super().bulk_create(objs, *args, **kwargs)
        roles_changed(c.homeroom_teacher_id for c in created)
        return created


def _homeroom_teachers(classes: models.QuerySet[ClassGroup]) -> set[int | None]:
    return set(classes.values_list("homeroom_teacher_id", flat=True))


class SchoolYear(models.Model):
    """A school year such as 2025-2026, with its two terms (HK I, HK II)."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="years")
    start_year = models.PositiveSmallIntegerField(
        _("starting year"), validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    is_current = models.BooleanField(_("current year"), default=False)

    objects = SchoolYearQuerySet.as_manager()

    class Meta:
        verbose_name = _("school year")
        verbose_name_plural = _("school years")
        ordering = ["-start_year"]
        constraints = [
            models.UniqueConstraint(fields=["school", "start_year"], name="year_unique_per_school"),
            models.UniqueConstraint(
                fields=["school"],
                condition=models.Q(is_current=True),
                name="one_current_year_per_school",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return f"{self.start_year}-{self.start_year + 1}"


class Term(models.Model):
    """Học kỳ: HK I (1) or HK II (2) of a school year."""

    class Number(models.IntegerChoices):
        FIRST = 1, _("Term I")
        SECOND = 2, _("Term II")

    year = models.ForeignKey(SchoolYear, on_delete=models.CASCADE, related_name="terms")
    number = models.PositiveSmallIntegerField(_("term"), choices=Number.choices)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))

    class Meta:
        verbose_name = _("term")
        verbose_name_plural = _("terms")
        ordering = ["year", "number"]
        constraints = [
            models.UniqueConstraint(fields=["year", "number"], name="term_unique_per_year"),
            models.CheckConstraint(
                condition=models.Q(ends_on__gt=models.F("starts_on")), name="term_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_number_display()} {self.year.name}"


class ClassGroup(models.Model):
    """A class (lớp) such as 6A1 in one school year."""

    year = models.ForeignKey(SchoolYear, on_delete=models.CASCADE, related_name="classes")
    name = models.CharField(_("class name"), max_length=20)
    grade = models.PositiveSmallIntegerField(
        _("grade"), validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    homeroom_teacher = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("homeroom teacher"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="homeroom_classes",
    )

    objects = ClassGroupQuerySet.as_manager()

    class Meta:
        verbose_name = _("class")
        verbose_name_plural = _("classes")
        ordering = ["grade", "name"]
        constraints = [
            models.UniqueConstraint(fields=["year", "name"], name="class_name_unique_per_year"),
            models.CheckConstraint(
                condition=models.Q(grade__gte=1, grade__lte=12), name="class_grade_1_12"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def school(self) -> School:
        return self.year.school


@receiver([post_save, post_delete], sender=ClassGroup)
def homeroom_changed(sender: type[ClassGroup], instance: ClassGroup, **kwargs: Any) -> None:
    """The class's homeroom teacher (a new one, or that of a class moved to another year) may
    sign now. One who stopped being it needs no new decision: a session that needed no code
    still needs none."""
    update_fields = kwargs.get("update_fields")
    if update_fields is None or {"homeroom_teacher", "year"} & set(update_fields):
        roles_changed([instance.homeroom_teacher_id])


@receiver(post_save, sender=SchoolYear)
def current_year_changed(sender: type[SchoolYear], instance: SchoolYear, **kwargs: Any) -> None:
    update_fields = kwargs.get("update_fields")
    if update_fields is None or "is_current" in update_fields:
        roles_changed(_homeroom_teachers(instance.classes.all()))


class Subject(models.Model):
    """A subject or educational activity, identified by the programme's code (TOAN, NV, …)."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="subjects")
    code = models.CharField(_("code"), max_length=10)
    name = models.CharField(_("name"), max_length=120)
    name_en = models.CharField(_("English name"), max_length=120, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("subject")
        verbose_name_plural = _("subjects")
        ordering = ["order", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["school", "code"], name="subject_code_unique_per_school"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Assessment(models.TextChoices):
    """How a subject is assessed in a grade."""

    SCORE = "score", _("Score and comment (Circular 22)")
    COMMENT = "comment", _("Comment: Đ / CĐ (Circular 22)")
    PRIMARY = "primary", _("Levels HTT / HT / CHT (Circular 27)")


class CurriculumEntry(models.Model):
    """What a grade studies in one school year: periods, how it is assessed, how many marks."""

    year = models.ForeignKey(SchoolYear, on_delete=models.CASCADE, related_name="curriculum")
    grade = models.PositiveSmallIntegerField(
        _("grade"), validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    subject = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="curriculum")
    periods_per_year = models.PositiveSmallIntegerField(_("periods per year"))
    assessment = models.CharField(_("assessed by"), max_length=10, choices=Assessment.choices)
    regular_marks_override = models.PositiveSmallIntegerField(
        _("regular marks (override)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(6)],
        help_text=_("Leave empty to derive from periods per year (Circular 22)."),
    )
    periodic_test = models.BooleanField(_("end-of-term tests (primary)"), default=False)
    midterm_test = models.BooleanField(_("mid-term tests (primary grades 4–5)"), default=False)

    class Meta:
        verbose_name = _("curriculum entry")
        verbose_name_plural = _("curriculum entries")
        ordering = ["grade", "subject__order", "subject__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["year", "grade", "subject"], name="curriculum_unique_subject_per_grade"
            )
        ]

    def __str__(self) -> str:
        return f"{self.subject.code} · {self.grade}"


class Sex(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class StudentQuerySet(models.QuerySet):
    """Bulk writes skip save(): these keep `search_name` in step with `full_name` (the roster
    import creates and renames students in bulk)."""

    def bulk_create(self, objs: Iterable[Student], *args: Any, **kwargs: Any) -> list[Student]:
        objs = list(objs)
        for student in objs:
            student.search_name = search_folded(student.full_name)
        return super().bulk_create(objs, *args, **kwargs)

    def bulk_update(
        self, objs: Iterable[Student], fields: Iterable[str], *args: Any, **kwargs: Any
    ) -> int:
        objs, fields = list(objs), list(fields)
        if "full_name" in fields:
            for student in objs:
                student.search_name = search_folded(student.full_name)
            fields = sorted({*fields, "search_name"})
        return super().bulk_update(objs, fields, *args, **kwargs)

    def update(self, **kwargs: Any) -> int:
        if "full_name" in kwargs and "search_name" not in kwargs:  # bulk_update sets both
            if not isinstance(kwargs["full_name"], str):
                raise TypeError("A student's full_name is updated with a value, not an expression.")
            kwargs["search_name"] = search_folded(kwargs["full_name"])
        return super().update(**kwargs)


class Student(models.Model):
    """A pupil of one school, identified nationally by the 12-digit personal ID (số định danh
    cá nhân) and in the sector by the student code (mã học sinh). Never store ID card scans."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="students")
    full_name = models.CharField(_("full name"), max_length=150)
    search_name = models.CharField(max_length=150, default="", editable=False)
    """`full_name` without diacritics or case (config.text.search_folded), which the search box
    of the students' list matches: "nguyen" finds Nguyễn on SQLite and PostgreSQL alike. Kept
    by save() and by the bulk writes of StudentQuerySet."""
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    date_of_birth = models.DateField(_("date of birth"))
    place_of_birth = models.CharField(_("place of birth"), max_length=200, blank=True)
    ethnicity = models.CharField(_("ethnicity"), max_length=50, default="Kinh")
    nationality = models.CharField(_("nationality"), max_length=50, default="Việt Nam")
    personal_id = models.CharField(
        _("personal ID number"), max_length=12, validators=[validate_personal_id]
    )
    student_code = models.CharField(_("student code (mã học sinh)"), max_length=20)
    residence = models.CharField(_("residence"), max_length=300, blank=True)
    father_name = models.CharField(_("father's name"), max_length=150, blank=True)
    mother_name = models.CharField(_("mother's name"), max_length=150, blank=True)
    guardian_name = models.CharField(_("guardian's name"), max_length=150, blank=True)
    guardian_phone = models.CharField(_("guardian's phone"), max_length=20, blank=True)
    registration_number = models.CharField(
        _("registration number (số đăng bộ)"),
        max_length=20,
        blank=True,
        help_text=_("The student's number in the school's register (sổ đăng bộ)."),
    )
    admission_date = models.DateField(
        _("date of admission"),
        null=True,
        blank=True,
        help_text=_("The day the student entered this school (admitted or transferred in)."),
    )

    objects = StudentQuerySet.as_manager()

    class Meta:
        verbose_name = _("student")
        verbose_name_plural = _("students")
        ordering = ["full_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["school", "registration_number"],
                condition=~models.Q(registration_number=""),
                name="registration_number_unique_per_school",
                violation_error_code="registration_number_taken",
                violation_error_message=_(
                    "Another student of this school has this registration number."
                ),
            ),
            models.UniqueConstraint(
                fields=["school", "student_code"], name="student_code_unique_per_school"
            ),
            models.UniqueConstraint(
                fields=["school", "personal_id"], name="personal_id_unique_per_school"
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.search_name = search_folded(self.full_name)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "full_name" in update_fields:
            kwargs["update_fields"] = {*update_fields, "search_name"}
        super().save(*args, **kwargs)

    def clean(self) -> None:
        from schools.validators import validate_personal_id_matches

        validate_personal_id_matches(
            self.personal_id, sex=self.sex, date_of_birth=self.date_of_birth
        )
        if self.admission_date and self.date_of_birth and self.admission_date <= self.date_of_birth:
            raise ValidationError(
                {"admission_date": _("The date of admission must be after the date of birth.")}
            )


class EnrollmentQuerySet(models.QuerySet):
    def on(self, day: datetime.date) -> EnrollmentQuerySet:
        """Enrollments in force on a given day (joined on or before it, not yet left)."""
        return self.filter(
            models.Q(joined_on__isnull=True) | models.Q(joined_on__lte=day),
            models.Q(left_on__isnull=True) | models.Q(left_on__gt=day),
        )

    def current(self) -> EnrollmentQuerySet:
        return self.filter(left_on__isnull=True)


class Enrollment(models.Model):
    """A student in a class for the class's year, with transfer in/out dates."""

    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="enrollments")
    class_group = models.ForeignKey(
        ClassGroup, on_delete=models.CASCADE, related_name="enrollments"
    )
    roll_number = models.PositiveSmallIntegerField(_("no."), default=0)
    joined_on = models.DateField(_("joined on"), null=True, blank=True)
    left_on = models.DateField(_("left on"), null=True, blank=True)

    objects = EnrollmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("enrollment")
        verbose_name_plural = _("enrollments")
        ordering = ["class_group", "roll_number"]
        constraints = [
            models.UniqueConstraint(fields=["student", "class_group"], name="enrollment_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.student} · {self.class_group}"


class TeachingAssignment(models.Model):
    """Phân công giảng dạy: a teacher teaches a subject to a class for the class's year.
    Co-teaching is two assignments for the same class and subject."""

    teacher = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("teacher"),
        on_delete=models.CASCADE,
        related_name="teaching_assignments",
    )
    class_group = models.ForeignKey(
        ClassGroup, verbose_name=_("class"), on_delete=models.CASCADE, related_name="assignments"
    )
    subject = models.ForeignKey(
        Subject, verbose_name=_("subject"), on_delete=models.CASCADE, related_name="assignments"
    )

    class Meta:
        verbose_name = _("teaching assignment")
        verbose_name_plural = _("teaching assignments")
        ordering = ["class_group", "subject__order"]
        constraints = [
            models.UniqueConstraint(
                fields=["teacher", "class_group", "subject"], name="assignment_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.teacher} · {self.class_group} · {self.subject.code}"


class InvitationQuerySet(models.QuerySet):
    def pending(self) -> InvitationQuerySet:
        """Neither accepted nor declined, and not expired."""
        return self.filter(
            accepted_at__isnull=True, declined_at__isnull=True, expires_at__gt=timezone.now()
        )


class Invitation(models.Model):
    """A school's invitation to an account it did not create (one without any membership of the
    school: another school's, an operator's) to join its staff with `roles`. Nothing changes
    until its owner accepts it, logged in as themselves (schools/invitations.py)."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="invitations")
    inviter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("invited by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    invited_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("invited account"),
        on_delete=models.CASCADE,
        related_name="invitations",
    )
    roles = models.JSONField(_("roles"), default=list)
    """The `accounts.models.Role` values given on acceptance."""
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    declined_at = models.DateTimeField(_("declined at"), null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        verbose_name = _("staff invitation")
        verbose_name_plural = _("staff invitations")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["school", "invited_user"],
                condition=models.Q(accepted_at__isnull=True, declined_at__isnull=True),
                name="one_open_invitation_per_school_and_account",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.school} → {self.invited_user}"

    def get_roles_display(self) -> list[str]:
        labels = dict(Role.choices)
        return [str(labels[role]) for role in self.roles if role in labels]


# --- The provincial Department (Sở GD&ĐT) -----------------------------------------------------


class Department(models.Model):
    """A provincial Department of Education and Training (Sở Giáo dục và Đào tạo). Its members
    read, and never write, the aggregates of every school whose `department_code` is its code
    (department/, docs/department.md): no mark and no student's name."""

    code = models.CharField(_("Department code (mã Sở)"), max_length=10, unique=True)
    name = models.CharField(_("name"), max_length=200)
    province = models.CharField(_("province"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("Department of Education")
        verbose_name_plural = _("Departments of Education")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    def schools(self) -> models.QuerySet[School]:
        return School.objects.filter(department_code=self.code)


class DepartmentMembership(models.Model):
    """A person who works for a Department and reads its province's dashboard. Reading every
    school's export and upload state, such a person must use two-factor authentication
    (schools/signers.py)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="department_memberships"
    )
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="memberships")
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("Department membership")
        verbose_name_plural = _("Department memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "department"], name="department_membership_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.department}"


@receiver([post_save, post_delete], sender=DepartmentMembership)
def department_membership_changed(
    sender: type[DepartmentMembership], instance: DepartmentMembership, **kwargs: object
) -> None:
    roles_changed([instance.user_id])


class SubjectChoice(models.Model):
    """A student's choice in grades 10-12 for one school year (schools/programme.py): an
    elective subject they take (môn học lựa chọn), or the learning-topic clusters (cụm chuyên
    đề học tập, ``with_topics``) they take with a subject, compulsory or elective. A compulsory
    subject has a row only when its clusters are taken."""

    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="subject_choices")
    year = models.ForeignKey(SchoolYear, on_delete=models.CASCADE, related_name="subject_choices")
    subject = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="choices")
    with_topics = models.BooleanField(_("learning-topic clusters"), default=False)

    class Meta:
        verbose_name = _("subject choice")
        verbose_name_plural = _("subject choices")
        ordering = ["year", "student", "subject__order"]
        constraints = [
            models.UniqueConstraint(
                fields=["student", "year", "subject"], name="subject_choice_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.student} · {self.year} · {self.subject.code}"
