"""Lists of the school admin's set-up pages (django-tables2: sorting and pagination; the views
filter the querysets and configure the tables with RequestConfig)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar, TypedDict

import django_tables2 as tables
from django.db.models import Model
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from accounts.models import Membership, Role, User
from schools.models import (
    ClassGroup,
    CurriculumEntry,
    SchoolYear,
    Student,
    Subject,
    TeachingAssignment,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise, WithAnnotations


class YearRow(TypedDict):
    """What the years page annotates on each SchoolYear (schools/setup_views/years.py)."""

    term1_start: datetime.date | None
    term1_end: datetime.date | None
    term2_start: datetime.date | None
    term2_end: datetime.date | None
    class_count: int


class StaffRow(TypedDict):
    """What the staff page prefetches on each User (schools/setup_views/staff.py)."""

    school_memberships: list[Membership]


class StudentRow(TypedDict):
    """What the students page annotates on each Student (schools/setup_views/students.py): the
    name of the student's class in the current year, if any."""

    current_class: str | None


DASH = "\N{EN DASH}"
END = {"th": {"class": "text-end"}, "td": {"class": "text-end"}}


class SetupTable(tables.Table):
    """A list on a set-up page: it knows its school's code to build links."""

    def __init__(self, data: object, *, school_code: str, **kwargs: object) -> None:
        self.school_code = school_code
        super().__init__(data, **kwargs)

    def url(self, name: str, *args: object, query: str = "") -> str:
        url = reverse(name, args=[self.school_code, *args])
        return f"{url}?{query}" if query else url

    def buttons(self, *links: tuple[str, StrOrPromise]) -> SafeString:
        return format_html_join(
            " ", '<a class="btn btn-sm btn-outline-secondary" href="{}">{}</a>', links
        )


def link_to(name: str) -> Callable[[SetupTable, Model], str]:
    """A `linkify` callable: the set-up page `name` of the row's object."""

    def url(table: SetupTable, record: Model) -> str:
        return table.url(name, record.pk)

    return url


def short_date(day: datetime.date | None) -> str:
    return date_format(day, "SHORT_DATE_FORMAT") if day else "—"


class YearTable(SetupTable):
    name = tables.Column(
        _("School year"), accessor="start_year", linkify=link_to("schools:setup_year_edit")
    )
    is_current = tables.BooleanColumn(verbose_name=_("Current"))
    term1 = tables.Column(_("Term I"), accessor="term1_start")
    term2 = tables.Column(_("Term II"), accessor="term2_start")
    class_count = tables.Column(_("Classes"), attrs=END)
    actions = tables.Column("", empty_values=(), orderable=False)

    class Meta:
        model = SchoolYear
        fields = ["name", "is_current", "term1", "term2", "class_count"]
        order_by = "-name"

    def render_name(self, record: SchoolYear) -> str:
        return record.name

    def render_term1(self, record: WithAnnotations[SchoolYear, YearRow]) -> str:
        return f"{short_date(record.term1_start)} {DASH} {short_date(record.term1_end)}"

    def render_term2(self, record: WithAnnotations[SchoolYear, YearRow]) -> str:
        return f"{short_date(record.term2_start)} {DASH} {short_date(record.term2_end)}"

    def render_actions(self, record: SchoolYear) -> SafeString:
        query = f"year={record.pk}"
        return self.buttons(
            (self.url("schools:setup_classes", query=query), _("Classes")),
            (self.url("schools:setup_curriculum", record.pk), _("Curriculum")),
            (self.url("schools:setup_year_edit", record.pk), _("Edit")),
        )


class ClassTable(SetupTable):
    name = tables.Column(linkify=link_to("schools:setup_class_edit"))
    homeroom_teacher = tables.Column(
        order_by=("homeroom_teacher__full_name", "homeroom_teacher__username")
    )
    student_count = tables.Column(_("Students"), attrs=END)
    actions = tables.Column("", empty_values=(), orderable=False)

    class Meta:
        model = ClassGroup
        fields = ["name", "grade", "homeroom_teacher", "student_count"]
        order_by = ("grade", "name")

    def render_actions(self, record: ClassGroup) -> SafeString:
        return self.buttons(
            (self.url("schools:class_detail", record.pk), _("Class list")),
            (self.url("schools:setup_class_edit", record.pk), _("Edit")),
        )


class SubjectTable(SetupTable):
    code = tables.Column(linkify=link_to("schools:setup_subject_edit"))

    class Meta:
        model = Subject
        fields = ["order", "code", "name", "name_en"]
        order_by = ("order", "code")


class CurriculumTable(SetupTable):
    subject = tables.Column(
        _("Subject"),
        linkify=link_to("schools:setup_curriculum_entry_edit"),
        order_by=("subject__order", "subject__code"),
    )
    regular_marks = tables.Column(
        _("Regular marks per term"), empty_values=(), orderable=False, attrs=END
    )
    regular_marks_override = tables.Column(attrs=END)
    periodic_test = tables.BooleanColumn()
    midterm_test = tables.BooleanColumn()

    regular_marks_per_term: ClassVar[staticmethod[[CurriculumEntry], int]]
    """How many regular marks a term of the entry has: the gradebook's rule
    (gradebook/curriculum.py), handed to this table by the gradebook when it loads
    (gradebook/apps.py), so that schools imports nothing of the gradebook."""

    class Meta:
        model = CurriculumEntry
        fields = [
            "subject",
            "periods_per_year",
            "assessment",
            "regular_marks",
            "regular_marks_override",
            "periodic_test",
            "midterm_test",
        ]
        order_by = "subject"

    @classmethod
    def for_grade(cls, data: object, *, grade: int, school_code: str) -> CurriculumTable:
        """Primary grades have no regular marks; secondary grades no periodic tests."""
        if grade <= 5:
            hidden = ("regular_marks", "regular_marks_override")
        else:
            hidden = ("periodic_test", "midterm_test")
        return cls(data, school_code=school_code, exclude=hidden)

    def render_subject(self, value: Subject) -> str:
        return f"{value.code} · {value.name}"

    def render_regular_marks(self, record: CurriculumEntry) -> int | str:
        """Derived from the periods (Circular 22 Art. 7) unless overridden; none in primary."""
        return self.regular_marks_per_term(record) or "—"


class StaffTable(SetupTable):
    username = tables.Column(linkify=link_to("schools:setup_teacher_edit"))
    full_name = tables.Column(order_by=("full_name", "username"))
    roles = tables.Column(_("Roles here"), empty_values=(), orderable=False)
    status = tables.Column(_("Status"), empty_values=(), orderable=False)

    class Meta:
        model = User
        fields = ["username", "full_name", "email", "phone"]
        sequence = ["full_name", "username", "email", "phone", "roles", "status"]
        order_by = "full_name"

    def render_roles(self, record: WithAnnotations[User, StaffRow]) -> SafeString:
        labels = dict(Role.choices)
        active = [m.role for m in record.school_memberships if m.is_active]
        return format_html_join(
            " ",
            '<span class="badge text-bg-secondary">{}</span>',
            ((labels[role],) for role in sorted(active)),
        )

    def render_status(self, record: WithAnnotations[User, StaffRow]) -> SafeString:
        if not record.is_active:
            return format_html('<span class="text-danger">{}</span>', _("Account disabled"))
        if any(m.is_active for m in record.school_memberships):
            return format_html("{}", _("Active"))
        return format_html('<span class="text-body-secondary">{}</span>', _("Deactivated"))


class AssignmentTable(SetupTable):
    class_group = tables.Column(order_by=("class_group__grade", "class_group__name"))
    subject = tables.Column(order_by=("subject__order", "subject__code"))
    teacher = tables.Column(order_by=("teacher__full_name", "teacher__username"))
    actions = tables.Column("", empty_values=(), orderable=False)

    class Meta:
        model = TeachingAssignment
        fields = ["class_group", "subject", "teacher"]
        order_by = ("class_group", "subject")

    def render_actions(self, record: TeachingAssignment) -> SafeString:
        return format_html(
            '<a class="btn btn-sm btn-outline-danger" href="{}">{}</a>',
            self.url("schools:setup_assignment_delete", record.pk),
            _("Remove"),
        )


class StudentTable(SetupTable):
    full_name = tables.Column(linkify=link_to("schools:setup_student_edit"))
    date_of_birth = tables.DateColumn(short=True)
    current_class = tables.Column(_("Class"), default="—")

    class Meta:
        model = Student
        fields = ["student_code", "full_name", "sex", "date_of_birth", "current_class"]
        order_by = "full_name"
