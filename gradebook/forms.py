"""Forms of the gradebook pages. They parse input and offer choices scoped to one school; the
rules are enforced by the services (gradebook.services, gradebook.locks, gradebook.corrections)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from schools.choices import ClassChoiceField, SubjectChoiceField
from schools.models import ClassGroup, SchoolYear, Subject

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# Locks and corrections --------------------------------------------------------------------------

TERM_CHOICES = [("1", _("Term I")), ("2", _("Term II"))]


def _reason_field(label: StrOrPromise = "", *, required: bool = True) -> forms.CharField:
    return forms.CharField(
        label=label or _("Reason"),
        required=required,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class LockForm(forms.Form):
    """Lock a class, a subject, a term, or any combination of them (empty = all)."""

    term = forms.TypedChoiceField(
        label=_("Term"),
        choices=[("", _("The whole year")), *TERM_CHOICES],
        coerce=int,
        empty_value=None,
        required=False,
    )
    class_group = ClassChoiceField(
        label=_("Class"),
        queryset=ClassGroup.objects.none(),
        required=False,
        empty_label=_("All classes"),
    )
    subject = SubjectChoiceField(
        label=_("Subject"),
        queryset=Subject.objects.none(),
        required=False,
        empty_label=_("All subjects and the homeroom books"),
    )
    reason = _reason_field()

    def __init__(self, *args: Any, year: SchoolYear, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "lock")
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["class_group"]).queryset = year.classes.order_by(
            "grade", "name"
        )
        cast(forms.ModelChoiceField, self.fields["subject"]).queryset = year.school.subjects.filter(
            curriculum__year=year
        ).distinct()


class LockDateForm(forms.Form):
    """The school-wide lock date of a term: every gradebook locks at midnight of that day."""

    term = forms.TypedChoiceField(label=_("Term"), choices=TERM_CHOICES, coerce=int)
    date = forms.DateField(
        label=_("Lock date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Every gradebook of the term locks at 00:00 on this day."),
    )
    reason = _reason_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "date")
        super().__init__(*args, **kwargs)


class UnlockForm(forms.Form):
    reason = _reason_field(_("Reason for unlocking"))


class CorrectionRequestForm(forms.Form):
    new_value = forms.CharField(
        label=_("New value"),
        required=False,
        max_length=2000,
        help_text=_("Type it as in the gradebook; leave empty to clear the cell."),
    )
    reason = _reason_field(_("Reason for the correction"))

    def __init__(self, *args: Any, multiline: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if multiline:  # a comment cell
            self.fields["new_value"].widget = forms.Textarea(attrs={"rows": 3})


class CorrectionDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("Approve")), ("reject", _("Reject"))])
    note = _reason_field(_("Note"), required=False)


# Exemptions -------------------------------------------------------------------------------------


class ExemptionRequestForm(forms.Form):
    """Ask for an exemption of one student of a class from one subject, in a term or the year
    (gradebook.exemptions.request_exemption checks the rest)."""

    student = forms.TypedChoiceField(label=_("Student"), coerce=int)
    subject = forms.TypedChoiceField(label=_("Subject"), coerce=int)
    term = forms.TypedChoiceField(
        label=_("Term"),
        coerce=int,
        choices=[*TERM_CHOICES, ("0", _("Whole year"))],
    )
    scope = forms.ChoiceField(
        label=_("Exempted from"),
        choices=[
            ("whole", _("The whole subject: no mark is entered")),
            ("partial", _("Part of the subject: still assessed on what the student studies")),
        ],
        initial="whole",
        required=False,  # left out: the whole subject
        widget=forms.RadioSelect,
    )
    part = forms.CharField(
        label=_("Which part"),
        max_length=200,
        required=False,
        help_text=_("For a partial exemption, e.g. “the running exercises”."),
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Give the reason for the exemption.")},
    )
    document = forms.CharField(
        label=_("Document reference"),
        max_length=200,
        help_text=_("The decision or certificate the exemption rests on, e.g. “QĐ 12/2025”."),
        error_messages={
            "required": _("Give the reference of the document (decision, medical certificate).")
        },
    )

    def __init__(self, *args: Any, class_group: ClassGroup, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        current = class_group.enrollments.filter(left_on__isnull=True).select_related("student")
        cast(forms.TypedChoiceField, self.fields["student"]).choices = [
            (e.student_id, f"{e.roll_number}. {e.student.full_name}")
            for e in current.order_by("roll_number")
        ]
        subjects = Subject.objects.filter(
            curriculum__year_id=class_group.year_id, curriculum__grade=class_group.grade
        ).order_by("order", "code")
        cast(forms.TypedChoiceField, self.fields["subject"]).choices = [
            (s.pk, s.name) for s in subjects
        ]


class ExemptionDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("approve", _("Approve")), ("reject", _("Reject")), ("withdraw", _("Withdraw"))]
    )
    reason = forms.CharField(max_length=1000, required=False)
