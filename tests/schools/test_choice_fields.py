"""Drop-down lists of people, classes and subjects (schools/choices.py): Vietnamese order (given
name first, then the family and middle names; Đ after D, tones after the bare letter), classes
by grade and number (6A2 before 6A10), and an empty choice that says what to choose."""

import importlib
import pkgutil

from django import forms
from django.utils import translation

from accounts.models import Role, User
from schools.choices import VietnameseChoiceField
from schools.forms import ClassGroupForm, CurriculumAddForm, TeachingAssignmentForm
from schools.models import ClassGroup, Student, Subject
from tests.conftest import make_user

TEACHERS = ["Vũ Văn An", "Đỗ Thị Bình", "Đinh Văn Bình", "Nguyễn Văn Đạt", "Dương Thị Dung"]
VIETNAMESE_ORDER = ["Vũ Văn An", "Đinh Văn Bình", "Đỗ Thị Bình", "Dương Thị Dung", "Nguyễn Văn Đạt"]


def labels(field: forms.ModelChoiceField) -> list[str]:
    return [str(label) for value, label in field.choices if value != ""]


def empty_label(field: forms.ModelChoiceField) -> str:
    return str(next(label for value, label in field.choices if value == ""))


def test_teachers_are_listed_in_vietnamese_order(school_a):
    for number, name in enumerate(TEACHERS):
        user = make_user(f"gv{number}", school_a, Role.TEACHER)
        User.objects.filter(pk=user.pk).update(full_name=name)
    form = TeachingAssignmentForm(school=school_a, year=school_a.current_year())
    names = [label.split(" (")[0] for label in labels(form.fields["teacher"])]
    assert names == VIETNAMESE_ORDER


def test_classes_are_listed_by_grade_then_number(school_a):
    year = school_a.current_year()
    for name, grade in [("7A1", 7), ("6A10", 6), ("6A2", 6), ("6A1", 6)]:
        ClassGroup.objects.create(year=year, name=name, grade=grade)
    form = TeachingAssignmentForm(school=school_a, year=year)
    names = [label.split(" (")[0] for label in labels(form.fields["class_group"])]
    assert names == ["6A1", "6A2", "6A10", "7A1"]


def test_subjects_keep_the_programme_order(school_a):
    form = CurriculumAddForm(school=school_a)
    codes = [label.split(" · ")[0] for label in labels(form.fields["subject"])]
    expected = list(school_a.subjects.order_by("order", "code").values_list("code", flat=True))
    assert codes == expected


def test_the_empty_choice_says_what_to_choose(school_a):
    year = school_a.current_year()
    with translation.override("en"):
        form = TeachingAssignmentForm(school=school_a, year=year)
        assert empty_label(form.fields["teacher"]) == "— Choose a teacher —"
        assert empty_label(form.fields["class_group"]) == "— Choose a class —"
        assert empty_label(form.fields["subject"]) == "— Choose a subject —"
        homeroom = ClassGroupForm(school=school_a).fields["homeroom_teacher"]
        assert empty_label(homeroom) == "— Choose a teacher —"
    with translation.override("vi"):
        form = TeachingAssignmentForm(school=school_a, year=year)
        assert "---------" not in [label for _, label in form.fields["teacher"].choices]


def _forms_of_the_apps() -> list[type[forms.BaseForm]]:
    """Every form class defined in accounts, schools, gradebook and transcripts."""
    for app in ("accounts", "schools", "gradebook", "transcripts"):
        package = importlib.import_module(app)
        for module in pkgutil.walk_packages(package.__path__, f"{app}."):
            if ".migrations" not in module.name and ".management" not in module.name:
                importlib.import_module(module.name)
    found, pending = [], [forms.BaseForm]
    while pending:
        for sub in pending.pop().__subclasses__():
            pending.append(sub)
            if sub.__module__.split(".")[0] in ("accounts", "schools", "gradebook", "transcripts"):
                found.append(sub)
    return found


def test_every_drop_down_of_people_classes_or_subjects_sorts_the_vietnamese_way():
    """Done once, in the field class: a new form's plain ModelChoiceField over one of these
    models would list them in database order under '---------'."""
    listed = (User, Student, ClassGroup, Subject)
    plain = []
    classes = _forms_of_the_apps()
    assert len(classes) > 20
    for form_class in classes:
        for name, field in form_class.base_fields.items():
            if not isinstance(field, forms.ModelChoiceField):
                continue
            model = None if field.queryset is None else field.queryset.model
            if (model is None or model in listed) and not isinstance(field, VietnameseChoiceField):
                plain.append(f"{form_class.__module__}.{form_class.__name__}.{name}")
    assert plain == []
