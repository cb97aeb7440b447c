"""The drop-down lists of people, classes and subjects, in the order a Vietnamese school writes
them, with an empty choice that says what to choose (not Django's "---------").

Every form field choosing one of these is one of the fields below (tests/schools/
test_choice_fields.py fails on a plain ModelChoiceField over them): people by given name, then
family and middle names, in the Vietnamese alphabet (schools/names.py, the class lists' order);
classes by grade, then by name with its numbers as numbers (6A2 before 6A10); subjects in the
programme's order. The lists are a school's, short: they are sorted in Python, where the
Vietnamese alphabet is (the database's collation is not, on SQLite or PostgreSQL alike).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from django import forms
from django.db.models import Model
from django.forms.models import ModelChoiceIterator, ModelChoiceIteratorValue
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from schools.models import ClassGroup, Subject
from schools.names import vietnamese_name_key

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

_UNSET: Any = object()


class _SortedIterator(ModelChoiceIterator):
    """The field's queryset, sorted by the field's `sort_key` (one query, as before)."""

    field: VietnameseChoiceField

    def __iter__(self) -> Iterator[tuple[ModelChoiceIteratorValue | str, Any]]:
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in sorted(self.queryset, key=self.field.sort_key):
            yield self.choice(obj)


class VietnameseChoiceField(forms.ModelChoiceField):
    """A ModelChoiceField listed in `sort_key` order, whose empty choice is `default_empty_label`
    unless the form gives its own (a filter's "All classes")."""

    iterator = _SortedIterator
    default_empty_label: ClassVar[StrOrPromise] = _("— Choose —")

    def __init__(self, queryset: Any, *, empty_label: Any = _UNSET, **kwargs: Any) -> None:
        if empty_label is _UNSET:
            empty_label = self.default_empty_label
        super().__init__(queryset, empty_label=empty_label, **kwargs)

    def sort_key(self, obj: Any) -> tuple:
        raise NotImplementedError


def person_sort_key(user: User) -> tuple:
    return (vietnamese_name_key(user.display_name), user.username)


_NUMBER = re.compile(r"(\d+)")


def class_sort_key(class_group: ClassGroup) -> tuple:
    """Grade, then the name with its numbers compared as numbers: 6A1, 6A2, 6A10."""
    parts = _NUMBER.split(class_group.name.casefold())
    return (class_group.grade, tuple((int(p), "") if p.isdigit() else (-1, p) for p in parts))


def subject_sort_key(subject: Subject) -> tuple:
    return (subject.order, vietnamese_name_key(subject.name), subject.code)


class PersonChoiceField(VietnameseChoiceField):
    """A member of the staff: "Name (username)"."""

    default_empty_label = _("— Choose a teacher —")

    def sort_key(self, obj: Model) -> tuple:
        assert isinstance(obj, User)
        return person_sort_key(obj)

    def label_from_instance(self, obj: Model) -> str:
        assert isinstance(obj, User)
        return f"{obj.display_name} ({obj.username})"


class ClassChoiceField(VietnameseChoiceField):
    default_empty_label = _("— Choose a class —")

    def sort_key(self, obj: Model) -> tuple:
        assert isinstance(obj, ClassGroup)
        return class_sort_key(obj)


class SubjectChoiceField(VietnameseChoiceField):
    default_empty_label = _("— Choose a subject —")

    def sort_key(self, obj: Model) -> tuple:
        assert isinstance(obj, Subject)
        return subject_sort_key(obj)
