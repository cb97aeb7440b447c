"""Forms of the school admin's set-up pages. They parse and offer choices scoped to one school;
the rules themselves are enforced by schools.setup_services, whose field names they share."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.models import Membership, Role, User
from config.text import search_folded, search_is_exact, search_matches
from schools import choices
from schools.models import (
    ClassGroup,
    CurriculumEntry,
    Enrollment,
    School,
    SchoolYear,
    Student,
    Subject,
    TeachingAssignment,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise, WithAnnotations

    from schools.tables import StudentRow


def teachers_of(school: School) -> QuerySet[User]:
    """Active accounts holding an active TEACHER membership in the school."""
    return (
        User.objects.filter(
            is_active=True,
            memberships__school=school,
            memberships__role=Role.TEACHER,
            memberships__is_active=True,
        )
        .distinct()
        .order_by("full_name", "username")
    )


TeacherChoiceField = choices.PersonChoiceField


class ClassChoiceField(choices.ClassChoiceField):
    def label_from_instance(self, obj: ClassGroup) -> str:
        return str(_("%(name)s (grade %(grade)s)") % {"name": obj.name, "grade": obj.grade})


class SubjectChoiceField(choices.SubjectChoiceField):
    def label_from_instance(self, obj: Subject) -> str:
        return f"{obj.code} · {obj.name}"


def date_field(
    label: StrOrPromise, *, required: bool = True, help_text: StrOrPromise = ""
) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        help_text=help_text,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


# Years ---------------------------------------------------------------------------------------


class TermDatesForm(forms.Form):
    term1_start = date_field(_("Term I starts on"))
    term1_end = date_field(_("Term I ends on"))
    term2_start = date_field(_("Term II starts on"))
    term2_end = date_field(_("Term II ends on"))

    def term_ranges(self) -> dict[str, tuple[datetime.date, datetime.date]]:
        data = self.cleaned_data
        return {
            "term1": (data["term1_start"], data["term1_end"]),
            "term2": (data["term2_start"], data["term2_end"]),
        }


class SchoolYearForm(TermDatesForm):
    start_year = forms.IntegerField(
        label=_("Starting year"), min_value=2000, max_value=2100, help_text=_("2025 for 2025-2026.")
    )
    make_current = forms.BooleanField(
        label=_("Make it the current year"), required=False, initial=True
    )
    field_order = ["start_year", "term1_start", "term1_end", "term2_start", "term2_end"]

    def __init__(self, *args: Any, school: School, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        latest = school.years.order_by("-start_year").first()
        start = latest.start_year + 1 if latest else datetime.date.today().year
        self.initial.setdefault("start_year", start)
        self.initial.setdefault("term1_start", datetime.date(start, 9, 5))
        self.initial.setdefault("term1_end", datetime.date(start + 1, 1, 15))
        self.initial.setdefault("term2_start", datetime.date(start + 1, 1, 19))
        self.initial.setdefault("term2_end", datetime.date(start + 1, 5, 25))


class YearDatesForm(TermDatesForm):
    def __init__(self, *args: Any, year: SchoolYear, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for term in year.terms.all():
            self.initial.setdefault(f"term{term.number}_start", term.starts_on)
            self.initial.setdefault(f"term{term.number}_end", term.ends_on)


# Classes -------------------------------------------------------------------------------------


class ClassGroupForm(forms.Form):
    name = forms.CharField(label=_("Class name"), max_length=20, help_text=_("For example 6A1."))
    grade = forms.TypedChoiceField(label=_("Grade"), coerce=int)
    homeroom_teacher = TeacherChoiceField(
        label=_("Homeroom teacher"), queryset=User.objects.none(), required=False
    )

    def __init__(
        self, *args: Any, school: School, class_group: ClassGroup | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["grade"]).choices = [(g, g) for g in school.grades]
        cast(forms.ModelChoiceField, self.fields["homeroom_teacher"]).queryset = teachers_of(school)
        if class_group is not None:
            self.initial.update(
                name=class_group.name,
                grade=class_group.grade,
                homeroom_teacher=class_group.homeroom_teacher_id,
            )


# Subjects and curriculum ---------------------------------------------------------------------


class SubjectForm(forms.ModelForm):
    class Meta:
        model = Subject
        fields = ["code", "name", "name_en", "order"]
        help_texts = {"code": _("The programme's code, such as TOAN or NV; unique in the school.")}


class CurriculumEntryForm(forms.ModelForm):
    class Meta:
        model = CurriculumEntry
        fields = [
            "periods_per_year",
            "assessment",
            "regular_marks_override",
            "periodic_test",
            "midterm_test",
        ]


class CurriculumAddForm(CurriculumEntryForm):
    grade = forms.TypedChoiceField(label=_("Grade"), coerce=int)
    subject = SubjectChoiceField(label=_("Subject"), queryset=Subject.objects.none())
    field_order = ["grade", "subject"]

    def __init__(self, *args: Any, school: School, grade: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["grade"]).choices = [(g, g) for g in school.grades]
        cast(forms.ModelChoiceField, self.fields["subject"]).queryset = school.subjects.all()
        if grade is not None:
            self.initial.setdefault("grade", grade)


# Staff ---------------------------------------------------------------------------------------


class RolesField(forms.MultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(label=_("Roles in this school"), choices=Role.choices, **kwargs)


class StaffCreateForm(forms.Form):
    username = forms.CharField(
        label=_("Username"), max_length=150, validators=[User.username_validator]
    )
    full_name = forms.CharField(label=_("Full name"), max_length=150)
    email = forms.EmailField(label=_("Email"), required=False)
    phone = forms.CharField(label=_("Phone"), max_length=20, required=False)
    roles = RolesField(initial=[Role.TEACHER])
    password = forms.CharField(
        label=_("Initial password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_(
            "Give it to the person, who should change it. Leave empty to email them a link "
            "to set their own password instead (an email address is then required)."
        ),
    )
    password_again = forms.CharField(
        label=_("Initial password (again)"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("password", "") != data.get("password_again", ""):
            self.add_error("password_again", _("The two passwords differ."))
        return data


class StaffAddExistingForm(forms.Form):
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        help_text=_("The account the person already uses in another school."),
    )
    roles = RolesField(initial=[Role.TEACHER])


class StaffEditForm(forms.Form):
    full_name = forms.CharField(label=_("Full name"), max_length=150)
    email = forms.EmailField(label=_("Email"), required=False)
    phone = forms.CharField(label=_("Phone"), max_length=20, required=False)
    roles = RolesField()

    def __init__(
        self, *args: Any, user: User, roles: list[str], shared: bool, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.initial.update(full_name=user.full_name, email=user.email, phone=user.phone)
        self.initial.setdefault("roles", roles)
        if shared:
            for name in ("full_name", "email", "phone"):
                self.fields[name].disabled = True
                self.fields[name].help_text = _(
                    "This account is also used outside this school; only its roles here can change."
                )


# Teaching assignments ------------------------------------------------------------------------


class TeachingAssignmentForm(forms.Form):
    class_group = ClassChoiceField(label=_("Class"), queryset=ClassGroup.objects.none())
    subject = SubjectChoiceField(label=_("Subject"), queryset=Subject.objects.none())
    teacher = TeacherChoiceField(label=_("Teacher"), queryset=User.objects.none())

    def __init__(self, *args: Any, school: School, year: SchoolYear, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["class_group"]).queryset = year.classes.all()
        cast(forms.ModelChoiceField, self.fields["subject"]).queryset = school.subjects.all()
        cast(forms.ModelChoiceField, self.fields["teacher"]).queryset = teachers_of(school)


# The school ----------------------------------------------------------------------------------


class SchoolDetailsForm(forms.ModelForm):
    """The school's details printed on its transcripts (the name and codes are not edited here:
    they identify the school and its organisational certificate)."""

    class Meta:
        model = School
        fields = ["address", "province", "place_name"]


# Students ------------------------------------------------------------------------------------


class StudentForm(forms.ModelForm):
    """Every Student field but its school, and the class when the student is not in one this
    year. The model's validators and Student.clean() (the personal ID must match sex and date
    of birth) run as part of the form's validation."""

    class Meta:
        model = Student
        fields = [
            "full_name",
            "sex",
            "date_of_birth",
            "place_of_birth",
            "ethnicity",
            "nationality",
            "personal_id",
            "student_code",
            "residence",
            "father_name",
            "mother_name",
            "guardian_name",
            "guardian_phone",
            "registration_number",
            "admission_date",
        ]
        widgets = {
            "date_of_birth": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "admission_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(
        self, *args: Any, school: School, year: SchoolYear | None, enroll: bool, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.instance.school = school
        if enroll and year is not None:
            self.fields["class_group"] = ClassChoiceField(
                label=_("Class (%(year)s)") % {"year": year.name},
                queryset=year.classes.all(),
                required=False,
            )
            self.fields["joined_on"] = date_field(
                _("Joined the class on"),
                required=False,
                help_text=_("Leave empty when the student is there from the start of the year."),
            )


class TransferOutForm(forms.Form):
    left_on = date_field(_("Left on"), help_text=_("The last day is the day before."))


class MoveStudentForm(forms.Form):
    to_class = ClassChoiceField(label=_("New class"), queryset=ClassGroup.objects.none())
    on = date_field(_("From"))

    def __init__(self, *args: Any, year: SchoolYear, current: ClassGroup, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["to_class"]).queryset = year.classes.exclude(
            pk=current.pk
        )


# Filters (small GET forms above the lists) ---------------------------------------------------


class FilterForm(forms.Form):
    """A GET form: every field optional; Bootstrap's small controls."""

    use_required_attribute = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False
            is_select = isinstance(field.widget, forms.Select)
            field.widget.attrs["class"] = (
                "form-select form-select-sm" if is_select else "form-control form-control-sm"
            )

    def value(self, name: str) -> Any:
        """The cleaned value, or None when absent or invalid (a stale link is not an error). Its
        type is the field's (Any, like `cleaned_data`'s values)."""
        if not hasattr(self, "cleaned_data"):
            self.is_valid()
        return self.cleaned_data.get(name) or None


class YearChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: SchoolYear) -> str:
        return obj.name


class ClassFilterForm(FilterForm):
    year = YearChoiceField(
        label=_("School year"), queryset=SchoolYear.objects.none(), empty_label=None
    )
    grade = forms.TypedChoiceField(label=_("Grade"), coerce=int, empty_value=None)
    name = forms.CharField(label=_("Class name"))

    def __init__(self, *args: Any, school: School, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["year"]).queryset = school.years.all()
        cast(forms.ChoiceField, self.fields["grade"]).choices = [
            ("", _("All grades")),
            *((g, g) for g in school.grades),
        ]

    def apply(self, rows: QuerySet[ClassGroup]) -> QuerySet[ClassGroup]:
        if grade := self.value("grade"):
            rows = rows.filter(grade=grade)
        if name := self.value("name"):
            rows = rows.filter(name__icontains=name)
        return rows


class StaffFilterForm(FilterForm):
    name = forms.CharField(label=_("Name, username or email"))
    role = forms.ChoiceField(label=_("Role"), choices=[("", _("All roles")), *Role.choices])
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[("active", _("Active")), ("inactive", _("Deactivated")), ("all", _("All"))],
    )

    def apply(self, rows: QuerySet[User], *, school: School) -> QuerySet[User]:
        """Active members by default; "deactivated" are those who hold no active role here."""
        active_here = Membership.objects.active().filter(school=school)
        if name := self.value("name"):
            rows = rows.filter(pk__in=_staff_matching(rows, name))
        if role := self.value("role"):
            rows = rows.filter(pk__in=active_here.filter(role=role).values("user_id"))
        status = self.value("status") or "active"
        if status == "active":
            rows = rows.filter(pk__in=active_here.values("user_id"))
        elif status == "inactive":
            rows = rows.exclude(pk__in=active_here.values("user_id"))
        return rows


def _staff_matching(rows: QuerySet[User], text: str) -> list[int]:
    """The people of `rows` whose name, username or e-mail contains `text`, without regard to
    diacritics or case ("diep" finds Diệp). Compared here rather than by the database, which
    cannot strip diacritics the same way on SQLite and PostgreSQL: one school's staff is a few
    hundred people at most (the students, thousands, have a stored column instead)."""
    people = rows.order_by().values_list("pk", "full_name", "username", "email")
    return [pk for pk, *texts in people if any(search_matches(text, value) for value in texts)]


class AssignmentFilterForm(FilterForm):
    year = YearChoiceField(
        label=_("School year"), queryset=SchoolYear.objects.none(), empty_label=None
    )
    class_group = ClassChoiceField(
        label=_("Class"), queryset=ClassGroup.objects.none(), empty_label=_("All classes")
    )
    subject = SubjectChoiceField(
        label=_("Subject"), queryset=Subject.objects.none(), empty_label=_("All subjects")
    )
    teacher = TeacherChoiceField(
        label=_("Teacher"), queryset=User.objects.none(), empty_label=_("All teachers")
    )

    def __init__(self, *args: Any, school: School, year: SchoolYear | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["year"]).queryset = school.years.all()
        cast(forms.ModelChoiceField, self.fields["class_group"]).queryset = (
            year.classes.all() if year else ClassGroup.objects.none()
        )
        cast(forms.ModelChoiceField, self.fields["subject"]).queryset = school.subjects.all()
        cast(forms.ModelChoiceField, self.fields["teacher"]).queryset = (
            User.objects.filter(memberships__school=school, memberships__role=Role.TEACHER)
            .distinct()
            .order_by("full_name", "username")
        )

    def apply(self, rows: QuerySet[TeachingAssignment]) -> QuerySet[TeachingAssignment]:
        for field in ("class_group", "subject", "teacher"):
            if value := self.value(field):
                rows = rows.filter(**{field: value})
        return rows


NOT_IN_A_CLASS = "none"


class StudentFilterForm(FilterForm):
    class_group = forms.ChoiceField(label=_("Class"))
    name = forms.CharField(label=_("Name"))
    code = forms.CharField(label=_("Student code"))

    def __init__(self, *args: Any, year: SchoolYear | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        classes = sorted(year.classes.all(), key=choices.class_sort_key) if year else []
        cast(forms.ChoiceField, self.fields["class_group"]).choices = [
            ("", _("All classes")),
            (NOT_IN_A_CLASS, _("Not in a class this year")),
            *((str(c.pk), c.name) for c in classes),
        ]

    def apply(
        self, rows: QuerySet[WithAnnotations[Student, StudentRow]], *, in_year: QuerySet[Enrollment]
    ) -> QuerySet[WithAnnotations[Student, StudentRow]]:
        """`rows` annotated with `current_class`; `in_year`: current enrollments of the year."""
        chosen = self.value("class_group")
        if chosen == NOT_IN_A_CLASS:
            # django-stubs types every lookup on an annotation as the annotation's own type
            rows = rows.filter(current_class__isnull=True)  # type: ignore[misc]
        elif chosen:
            rows = rows.filter(pk__in=in_year.filter(class_group=chosen).values("student_id"))
        if name := self.value("name"):
            rows = rows.filter(search_name__contains=search_folded(name))
            if search_is_exact(name):  # typed with diacritics: they count ("Yến" is not Nguyễn)
                found = rows.order_by().values_list("pk", "full_name")
                rows = rows.filter(pk__in=[pk for pk, full in found if search_matches(name, full)])
        if code := self.value("code"):
            rows = rows.filter(student_code__icontains=code)
        return rows
