"""Writes behind the school admin's set-up pages. Each function is one transaction and checks the
rules a form cannot be trusted to enforce (a teacher of another school, a subject outside the
grade's curriculum, an admin removing their own admin role): they raise ValidationError keyed by
the argument at fault, which the views show on the matching form field."""

from __future__ import annotations

import datetime
from collections.abc import Collection

from allauth.account.forms import ResetPasswordForm
from allauth.account.models import EmailAddress
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.models import Membership, Role, User
from schools.invitations import invite_to_staff
from schools.models import (
    Assessment,
    ClassGroup,
    CurriculumEntry,
    Enrollment,
    School,
    SchoolYear,
    Student,
    Subject,
    TeachingAssignment,
    Term,
)
from schools.services import create_school_year

DateRange = tuple[datetime.date, datetime.date]


def _raise_if(errors: dict[str, object]) -> None:
    if errors:
        raise ValidationError(errors)


# The school --------------------------------------------------------------------------------


@transaction.atomic
def update_school_details(
    *, school: School, address: str, province: str, place_name: str
) -> School:
    """What the school's admin may change about the school itself: what is printed on its
    transcripts besides its name and codes (which identify it and stay with the operator)."""
    school.address, school.province, school.place_name = address, province, place_name
    school.save(update_fields=["address", "province", "place_name"])
    return school


# Years ---------------------------------------------------------------------------------------


def _term_date_errors(*, start_year: int, term1: DateRange, term2: DateRange) -> dict[str, object]:
    """Term I starts in the starting year, Term II ends in the next one, and they do not
    overlap."""
    errors: dict[str, object] = {}
    if term1[0].year != start_year:
        errors["term1_start"] = _("Term I must start in %(year)s.") % {"year": start_year}
    if term1[1] <= term1[0]:
        errors["term1_end"] = _("Term I must end after it starts.")
    if term2[0] <= term1[1]:
        errors["term2_start"] = _("Term II must start after Term I ends.")
    if term2[1] <= term2[0]:
        errors["term2_end"] = _("Term II must end after it starts.")
    elif term2[1].year != start_year + 1:
        errors["term2_end"] = _("Term II must end in %(year)s.") % {"year": start_year + 1}
    return errors


@transaction.atomic
def add_school_year(
    *,
    school: School,
    start_year: int,
    term1: DateRange,
    term2: DateRange,
    make_current: bool,
) -> SchoolYear:
    """A new year with its two terms and its curriculum (copied from the previous year, or the
    programme's defaults for the school's first year)."""
    errors = _term_date_errors(start_year=start_year, term1=term1, term2=term2)
    if school.years.filter(start_year=start_year).exists():
        errors["start_year"] = _("The school year %(name)s already exists.") % {
            "name": f"{start_year}-{start_year + 1}"
        }
    _raise_if(errors)
    return create_school_year(
        school=school, start_year=start_year, term1=term1, term2=term2, make_current=make_current
    )


@transaction.atomic
def update_term_dates(*, year: SchoolYear, term1: DateRange, term2: DateRange) -> None:
    _raise_if(_term_date_errors(start_year=year.start_year, term1=term1, term2=term2))
    for number, (starts_on, ends_on) in ((1, term1), (2, term2)):
        Term.objects.update_or_create(
            year=year, number=number, defaults={"starts_on": starts_on, "ends_on": ends_on}
        )


@transaction.atomic
def make_year_current(*, year: SchoolYear) -> None:
    """The year every page opens by default; exactly one per school."""
    SchoolYear.objects.filter(school_id=year.school_id, is_current=True).exclude(pk=year.pk).update(
        is_current=False
    )
    SchoolYear.objects.filter(pk=year.pk).update(is_current=True)
    year.is_current = True


# Classes -------------------------------------------------------------------------------------


def is_active_teacher(*, school: School, user: User) -> bool:
    return (
        user.is_active
        and Membership.objects.active().filter(school=school, user=user, role=Role.TEACHER).exists()
    )


def _class_errors(
    *,
    year: SchoolYear,
    name: str,
    grade: int,
    homeroom_teacher: User | None,
    class_group: ClassGroup | None = None,
) -> dict[str, object]:
    errors: dict[str, object] = {}
    school = year.school
    if grade not in school.grades:
        errors["grade"] = _("This school does not teach grade %(grade)s.") % {"grade": grade}
    same_name = year.classes.filter(name__iexact=name)
    if class_group is not None:
        same_name = same_name.exclude(pk=class_group.pk)
    if same_name.exists():
        errors["name"] = _("Class %(name)s already exists in %(year)s.") % {
            "name": name,
            "year": year.name,
        }
    if homeroom_teacher is not None and not is_active_teacher(school=school, user=homeroom_teacher):
        errors["homeroom_teacher"] = _(
            "The homeroom teacher must be an active teacher of this school."
        )
    return errors


@transaction.atomic
def create_class_group(
    *, year: SchoolYear, name: str, grade: int, homeroom_teacher: User | None
) -> ClassGroup:
    name = name.strip()
    _raise_if(_class_errors(year=year, name=name, grade=grade, homeroom_teacher=homeroom_teacher))
    return ClassGroup.objects.create(
        year=year, name=name, grade=grade, homeroom_teacher=homeroom_teacher
    )


@transaction.atomic
def update_class_group(
    *, class_group: ClassGroup, name: str, grade: int, homeroom_teacher: User | None
) -> ClassGroup:
    """A class may change grade only while none of its assignments would fall outside the new
    grade's curriculum."""
    name = name.strip()
    year = class_group.year
    errors = _class_errors(
        year=year,
        name=name,
        grade=grade,
        homeroom_teacher=homeroom_teacher,
        class_group=class_group,
    )
    if grade != class_group.grade and "grade" not in errors:
        in_curriculum = year.curriculum.filter(grade=grade).values("subject_id")
        if class_group.assignments.exclude(subject_id__in=in_curriculum).exists():
            errors["grade"] = _(
                "Some subjects assigned to this class are not in the grade %(grade)s curriculum; "
                "remove those assignments first."
            ) % {"grade": grade}
    _raise_if(errors)
    class_group.name = name
    class_group.grade = grade
    class_group.homeroom_teacher = homeroom_teacher
    class_group.save(update_fields=["name", "grade", "homeroom_teacher"])
    return class_group


# Subjects and curriculum ---------------------------------------------------------------------


def _subject_errors(*, school: School, code: str, subject: Subject | None) -> dict[str, object]:
    same_code = school.subjects.filter(code__iexact=code)
    if subject is not None:
        same_code = same_code.exclude(pk=subject.pk)
    if same_code.exists():
        return {"code": _("Another subject already has the code %(code)s.") % {"code": code}}
    return {}


@transaction.atomic
def create_subject(*, school: School, code: str, name: str, name_en: str, order: int) -> Subject:
    code = code.strip().upper()
    _raise_if(_subject_errors(school=school, code=code, subject=None))
    return Subject.objects.create(school=school, code=code, name=name, name_en=name_en, order=order)


@transaction.atomic
def update_subject(*, subject: Subject, code: str, name: str, name_en: str, order: int) -> Subject:
    code = code.strip().upper()
    _raise_if(_subject_errors(school=subject.school, code=code, subject=subject))
    subject.code, subject.name, subject.name_en, subject.order = code, name, name_en, order
    subject.save(update_fields=["code", "name", "name_en", "order"])
    return subject


def _assessment_errors(*, grade: int, assessment: str) -> dict[str, object]:
    """Grades 1 to 5 are assessed by levels (Circular 27); grades 6 to 12 by score or
    comment (Circular 22)."""
    if (grade <= 5) != (assessment == Assessment.PRIMARY):
        return {
            "assessment": _("This way of assessing does not apply to grade %(grade)s.")
            % {"grade": grade}
        }
    return {}


@transaction.atomic
def add_curriculum_entry(
    *,
    year: SchoolYear,
    grade: int,
    subject: Subject,
    periods_per_year: int,
    assessment: str,
    regular_marks_override: int | None,
    periodic_test: bool,
    midterm_test: bool,
) -> CurriculumEntry:
    """Add a subject (an elective, a local subject) to what a grade studies in a year."""
    errors = _assessment_errors(grade=grade, assessment=assessment)
    if grade not in year.school.grades:
        errors["grade"] = _("This school does not teach grade %(grade)s.") % {"grade": grade}
    if subject.school_id != year.school_id:
        errors["subject"] = _("Choose a subject of this school.")
    elif year.curriculum.filter(grade=grade, subject=subject).exists():
        errors["subject"] = _("Grade %(grade)s already studies %(subject)s.") % {
            "grade": grade,
            "subject": subject.name,
        }
    _raise_if(errors)
    return CurriculumEntry.objects.create(
        year=year,
        grade=grade,
        subject=subject,
        periods_per_year=periods_per_year,
        assessment=assessment,
        regular_marks_override=regular_marks_override,
        periodic_test=periodic_test,
        midterm_test=midterm_test,
    )


@transaction.atomic
def update_curriculum_entry(
    *,
    entry: CurriculumEntry,
    periods_per_year: int,
    assessment: str,
    regular_marks_override: int | None,
    periodic_test: bool,
    midterm_test: bool,
) -> CurriculumEntry:
    _raise_if(_assessment_errors(grade=entry.grade, assessment=assessment))
    entry.periods_per_year = periods_per_year
    entry.assessment = assessment
    entry.regular_marks_override = regular_marks_override
    entry.periodic_test = periodic_test
    entry.midterm_test = midterm_test
    entry.save()
    return entry


# Staff ---------------------------------------------------------------------------------------


def is_shared_account(*, school: School, user: User) -> bool:
    """An account that also works in another school (or an operator's): its name, email and
    phone belong to the person, not to this school, so this school's admin may not change them
    (an email change would let them reset the password and act in the other school)."""
    return user.is_superuser or user.is_staff or user.memberships.exclude(school=school).exists()


def _set_roles(*, school: School, user: User, roles: Collection[str], keep_others: bool) -> None:
    """Activate the chosen roles; deactivate the others unless `keep_others`. Memberships are
    never deleted: their dates are part of the school's history."""
    for role in roles:
        Membership.objects.update_or_create(
            user=user, school=school, role=role, defaults={"is_active": True}
        )
    if not keep_others:
        Membership.objects.filter(user=user, school=school).exclude(role__in=roles).update(
            is_active=False
        )


def _email_errors(*, email: str, user: User | None) -> dict[str, object]:
    if not email:
        return {}
    others = User.objects.filter(email__iexact=email)
    if user is not None:
        others = others.exclude(pk=user.pk)
    if others.exists():
        return {"email": _("Another account already uses this email address.")}
    return {}


@transaction.atomic
def create_staff_account(
    *,
    school: School,
    username: str,
    full_name: str,
    email: str,
    phone: str,
    roles: Collection[str],
    password: str,
) -> User:
    """A new account with roles in this school. With a password, the admin hands it over; with
    none, the account has an unusable password until the person follows the emailed link
    (`send_password_setup_email`)."""
    username = username.strip()
    errors = _email_errors(email=email, user=None)
    if User.objects.filter(username__iexact=username).exists():
        errors["username"] = _(
            "This username is taken. If the person already has an account (in another school), "
            "add it by username instead."
        )
    if not roles:
        errors["roles"] = _("Choose at least one role.")
    if not password and not email:
        errors["password"] = _(
            "Set an initial password, or give an email address to send a password link to."
        )
    _raise_if(errors)
    user = User(username=username, full_name=full_name, email=email, phone=phone)
    if password:
        try:
            validate_password(password, user=user)
        except ValidationError as error:
            raise ValidationError({"password": error.error_list}) from error
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    _set_roles(school=school, user=user, roles=roles, keep_others=False)
    return user


@transaction.atomic
def add_existing_staff(
    *, school: School, inviter: User, username: str, roles: Collection[str]
) -> User | None:
    """An existing account for this school's staff. One that has held a role here (the school
    created it, or its owner accepted an invitation) gets `roles` at once, and is returned. Any
    other (another school's, an operator's) is only invited (schools/invitations.py): it
    belongs to its owner, who must consent; None is returned, as for a username that no active
    account has, so that the caller answers both alike (the school learns nothing of an account
    that is not its own)."""
    if not roles:
        raise ValidationError({"roles": _("Choose at least one role.")})
    user = User.objects.filter(username__iexact=username.strip(), is_active=True).first()
    if user is None:
        return None
    if user.memberships.filter(school=school).exists():
        _set_roles(school=school, user=user, roles=roles, keep_others=True)
        return user
    invite_to_staff(school=school, inviter=inviter, user=user, roles=roles)
    return None


@transaction.atomic
def update_staff_member(
    *,
    school: School,
    user: User,
    actor: User,
    full_name: str,
    email: str,
    phone: str,
    roles: Collection[str],
) -> User:
    """Change a staff member's details and their roles here. An admin cannot remove their own
    admin role (nobody would be left to give it back)."""
    if not user.memberships.filter(school=school).exists():
        raise ValidationError(_("This person is not a member of this school."))
    errors = _email_errors(email=email, user=user)
    if not roles:
        errors["roles"] = _("Choose at least one role, or deactivate the member.")
    elif user.pk == actor.pk and Role.ADMIN not in roles:
        errors["roles"] = _("You cannot remove your own school admin role.")
    details = {"full_name": full_name, "email": email, "phone": phone}
    changed = [name for name, value in details.items() if getattr(user, name) != value]
    if changed and is_shared_account(school=school, user=user):
        errors[changed[0]] = _(
            "This account is also used outside this school; only its roles here can change."
        )
    _raise_if(errors)
    if "email" in changed:
        # An old address must not keep receiving password links.
        EmailAddress.objects.filter(user=user).exclude(email__iexact=email).delete()
    for name, value in details.items():
        setattr(user, name, value)
    user.save(update_fields=list(details))
    _set_roles(school=school, user=user, roles=roles, keep_others=False)
    return user


@transaction.atomic
def deactivate_staff_member(*, school: School, user: User, actor: User) -> int:
    """End every role the person holds here. The account stays (it owns marks, signatures and
    history, and may work in other schools). Returns the number of roles ended."""
    if user.pk == actor.pk:
        raise ValidationError(_("You cannot deactivate yourself."))
    return Membership.objects.active().filter(user=user, school=school).update(is_active=False)


def send_password_setup_email(*, request: HttpRequest, user: User) -> None:
    """Email the person allauth's password-reset link, with which they choose their first
    password. Sent after the account is committed; account emails are unique, so only this
    account receives a link."""
    form = ResetPasswordForm(data={"email": user.email})
    if form.is_valid():
        form.save(request)


# Teaching assignments ------------------------------------------------------------------------


@transaction.atomic
def create_teaching_assignment(
    *, class_group: ClassGroup, subject: Subject, teacher: User
) -> TeachingAssignment:
    """The subject must be in the curriculum of the class's grade that year; the teacher must be
    an active teacher of the class's school."""
    year = class_group.year
    school = year.school
    errors: dict[str, object] = {}
    if subject.school_id != school.pk:
        errors["subject"] = _("Choose a subject of this school.")
    elif not year.curriculum.filter(grade=class_group.grade, subject=subject).exists():
        errors["subject"] = _(
            "%(subject)s is not in the grade %(grade)s curriculum of %(year)s."
        ) % {"subject": subject.name, "grade": class_group.grade, "year": year.name}
    if not is_active_teacher(school=school, user=teacher):
        errors["teacher"] = _("The teacher must be an active teacher of this school.")
    _raise_if(errors)
    if TeachingAssignment.objects.filter(
        teacher=teacher, class_group=class_group, subject=subject
    ).exists():
        raise ValidationError(_("This teacher already teaches this subject to this class."))
    return TeachingAssignment.objects.create(
        teacher=teacher, class_group=class_group, subject=subject
    )


@transaction.atomic
def delete_teaching_assignment(*, assignment: TeachingAssignment) -> None:
    """Marks belong to students and subjects, not to assignments: they stay."""
    assignment.delete()


# Students ------------------------------------------------------------------------------------


def _year_bounds(year: SchoolYear) -> DateRange | None:
    terms = list(year.terms.order_by("number"))
    if not terms:
        return None
    return terms[0].starts_on, terms[-1].ends_on


def _date_in_year_errors(*, field: str, day: datetime.date, year: SchoolYear) -> dict[str, object]:
    bounds = _year_bounds(year)
    if bounds is not None and not bounds[0] <= day <= bounds[1]:
        return {
            field: _("The date must fall within the school year, from %(start)s to %(end)s.")
            % {"start": bounds[0].strftime("%d/%m/%Y"), "end": bounds[1].strftime("%d/%m/%Y")}
        }
    return {}


def _check_student(student: Student) -> None:
    """The model's own validation (field validators, the personal ID matching sex and date of
    birth) plus the per-school uniqueness, with messages that name the field."""
    others = Student.objects.filter(school_id=student.school_id).exclude(pk=student.pk)
    errors: dict[str, object] = {}
    if others.filter(student_code=student.student_code).exists():
        errors["student_code"] = _("Another student of this school has this student code.")
    if others.filter(personal_id=student.personal_id).exists():
        errors["personal_id"] = _("Another student of this school has this personal ID number.")
    _raise_if(errors)
    student.full_clean()


def _enroll(
    *, student: Student, class_group: ClassGroup, joined_on: datetime.date | None
) -> Enrollment:
    """Join a class, at the end of its roll (renumbering by name is the admin's explicit
    choice, because printed lists use the numbers)."""
    year = class_group.year
    errors: dict[str, object] = {}
    if year.school_id != student.school_id:
        errors["class_group"] = _("Choose a class of this school.")
    else:
        active = Enrollment.objects.current().filter(student=student, class_group__year=year)
        if active.filter(class_group=class_group).exists():
            errors["class_group"] = _("The student is already in this class.")
        elif active.exists():
            errors["class_group"] = _(
                "The student is already in another class this year; move them instead."
            )
    if joined_on is not None:
        errors.update(_date_in_year_errors(field="joined_on", day=joined_on, year=year))
    _raise_if(errors)
    last = class_group.enrollments.aggregate(n=Max("roll_number"))["n"] or 0
    enrollment, created = Enrollment.objects.get_or_create(
        student=student,
        class_group=class_group,
        defaults={"joined_on": joined_on, "roll_number": last + 1},
    )
    if not created:  # back in a class they had left: the same enrollment, reopened
        enrollment.joined_on = joined_on
        enrollment.left_on = None
        enrollment.save(update_fields=["joined_on", "left_on"])
    return enrollment


@transaction.atomic
def create_student(
    *,
    student: Student,
    class_group: ClassGroup | None,
    joined_on: datetime.date | None = None,
) -> Student:
    """Save a new student (built, unsaved, with its school set) and enroll them in a class."""
    _check_student(student)
    student.save()
    if class_group is not None:
        _enroll(student=student, class_group=class_group, joined_on=joined_on)
    return student


@transaction.atomic
def update_student(
    *,
    student: Student,
    class_group: ClassGroup | None = None,
    joined_on: datetime.date | None = None,
) -> Student:
    """Save a student's details; with `class_group`, also enroll them (a student not yet in a
    class this year)."""
    _check_student(student)
    student.save()
    if class_group is not None:
        _enroll(student=student, class_group=class_group, joined_on=joined_on)
    return student


@transaction.atomic
def enroll_student(
    *, student: Student, class_group: ClassGroup, joined_on: datetime.date | None
) -> Enrollment:
    return _enroll(student=student, class_group=class_group, joined_on=joined_on)


def _leave_errors(*, enrollment: Enrollment, day: datetime.date, field: str) -> dict[str, object]:
    if enrollment.left_on is not None:
        return {field: _("The student has already left this class.")}
    errors = _date_in_year_errors(field=field, day=day, year=enrollment.class_group.year)
    if not errors and enrollment.joined_on is not None and day < enrollment.joined_on:
        errors[field] = _("The student joined the class on %(date)s.") % {
            "date": enrollment.joined_on.strftime("%d/%m/%Y")
        }
    return errors


@transaction.atomic
def transfer_student_out(*, enrollment: Enrollment, left_on: datetime.date) -> Enrollment:
    """The student leaves the school (chuyển đi): the enrollment ends, its marks stay."""
    _raise_if(_leave_errors(enrollment=enrollment, day=left_on, field="left_on"))
    enrollment.left_on = left_on
    enrollment.save(update_fields=["left_on"])
    return enrollment


@transaction.atomic
def move_student(*, enrollment: Enrollment, to_class: ClassGroup, on: datetime.date) -> Enrollment:
    """Move to another class of the same year: the old enrollment ends the day the new one
    starts, so the student is in exactly one class on any day."""
    errors = _leave_errors(enrollment=enrollment, day=on, field="on")
    if to_class.year_id != enrollment.class_group.year_id:
        errors["to_class"] = _("Choose a class of the same school year.")
    elif to_class.pk == enrollment.class_group_id:
        errors["to_class"] = _("The student is already in this class.")
    _raise_if(errors)
    enrollment.left_on = on
    enrollment.save(update_fields=["left_on"])
    return _enroll(student=enrollment.student, class_group=to_class, joined_on=on)
