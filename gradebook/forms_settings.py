"""Forms of the gradebook's settings, comment bank and Excel import (the writes behind the
settings pages are :mod:`gradebook.settings_services`)."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from gradebook.models import CommentPhrase, GradebookSettings, ReassessmentEntry
from gradebook.rules import AdjustmentPolicy, FewSubjectsPolicy
from gradebook.settings_services import PLACEHOLDER, check_placeholders
from schools.choices import SubjectChoiceField
from schools.models import School, SchoolLevel, Subject
from schools.roster_import.reading import too_large_message

MAX_COMMENT_LIMIT = 2000

ADJUSTMENT_CHOICES = [
    (
        AdjustmentPolicy.ANY_SUBJECT.value,
        _("Any one subject, score-assessed or comment-assessed (default)"),
    ),
    (
        AdjustmentPolicy.SCORED_SUBJECTS_ONLY.value,
        _("Only a score-assessed subject; a single CĐ in a comment-assessed subject never does"),
    ),
]
FEW_SUBJECTS_CHOICES = [
    (
        FewSubjectsPolicy.ALL_MUST_MEET.value,
        _("All of the student's score-assessed subjects must meet the condition (default)"),
    ),
    (
        FewSubjectsPolicy.LITERAL_SIX.value,
        _("Six subjects are required whatever the student takes (literal reading)"),
    ),
]
REASSESSMENT_ENTRY_CHOICES = [
    (ReassessmentEntry.SUBJECT_TEACHER.value, _("The subject teacher of the class (default)")),
    (ReassessmentEntry.HOMEROOM_TEACHER.value, _("The homeroom teacher, for every subject")),
]
SECONDARY_LEVELS = [
    ("T", _("T · Good")),
    ("K", _("K · Fair")),
    ("D", _("Đ · Pass")),
    ("CD", _("CĐ · Not yet pass")),
]
PRIMARY_LEVELS = [
    ("HTT", _("HTT · Completed well")),
    ("HT", _("HT · Completed")),
    ("CHT", _("CHT · Not completed")),
]


# --- Settings ---------------------------------------------------------------------------------


class GradebookSettingsForm(forms.ModelForm):
    adjustment = forms.ChoiceField(
        label=_("Learning level adjustment (Circular 22, Article 9, clause 3)"),
        choices=ADJUSTMENT_CHOICES,
        widget=forms.RadioSelect,
        help_text=_(
            "A learning level two or more steps below T or K only because of one single subject "
            "is raised one step. Which subject may be “the one subject”? Decision recorded in "
            "docs/regulations.md#one-subject-adjustment: both score-assessed and "
            "comment-assessed subjects count."
        ),
    )
    few_scored_subjects = forms.ChoiceField(
        label=_("Students with fewer than 6 score-assessed subjects"),
        choices=FEW_SUBJECTS_CHOICES,
        widget=forms.RadioSelect,
        help_text=_(
            "How “at least 6 subjects” reads for a student exempted from some subjects, in the "
            "learning level table and the Excellent award. An interpretation, recorded in "
            "docs/regulations.md#fewer-than-six-score-assessed-subjects: all of the student's "
            "score-assessed subjects must meet the condition."
        ),
    )

    reassessment_entered_by = forms.ChoiceField(
        label=_("Summer re-assessment results are entered by"),
        choices=REASSESSMENT_ENTRY_CHOICES,
        widget=forms.RadioSelect,
        help_text=_(
            "Who types a student's re-assessment results on the class's Summer page. Conduct "
            "after summer training is always the homeroom teacher's."
        ),
    )

    class Meta:
        model = GradebookSettings
        fields = [
            "comment_max_length",
            "adjustment",
            "few_scored_subjects",
            "reassessment_entered_by",
        ]
        help_texts = {
            "comment_max_length": _(
                "Longest teacher's or homeroom comment, in characters (20 to 2000). Comments "
                "already saved are kept; the limit applies to new edits and imports."
            ),
        }

    def clean_comment_max_length(self) -> int:
        value = self.cleaned_data["comment_max_length"]
        if value > MAX_COMMENT_LIMIT:
            raise ValidationError(
                _("At most %(max)s characters."), params={"max": MAX_COMMENT_LIMIT}
            )
        return value


# --- Comment bank -----------------------------------------------------------------------------


def level_choices(school: School) -> list:
    """The levels a phrase can be filed under, for this school's kind of assessment."""
    choices: list = [("", _("Any level"))]
    if school.level in (SchoolLevel.PRIMARY, SchoolLevel.MULTI_LEVEL):
        choices.append((_("Primary (Circular 27)"), PRIMARY_LEVELS))
    if school.level != SchoolLevel.PRIMARY:
        choices.append((_("Secondary (Circular 22)"), SECONDARY_LEVELS))
    return choices


def level_names(school: School) -> dict[str, str]:
    """Level code → its label, for this school's levels (a code elsewhere shows as itself)."""
    return {code: str(label) for group in level_choices(school)[1:] for code, label in group[1]}


class CommentPhraseForm(forms.ModelForm):
    subject = SubjectChoiceField(
        label=_("Subject"), queryset=Subject.objects.none(), required=False
    )
    level = forms.ChoiceField(label=_("Level"), required=False)

    class Meta:
        model = CommentPhrase
        fields = ["subject", "level", "text"]
        widgets = {"text": forms.Textarea(attrs={"rows": 3})}
        help_texts = {
            "text": _(
                "Write {name} where the student's name should go: “{name} tiếp thu bài nhanh.” "
                "becomes “An tiếp thu bài nhanh.” for a student called Nguyễn Văn An. {name} is "
                "the only placeholder."
            )
        }

    def __init__(self, *args: Any, school: School, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.school = school
        subject = cast(forms.ModelChoiceField, self.fields["subject"])
        subject.queryset = school.subjects.all()
        subject.empty_label = _("Any subject")
        cast(forms.ChoiceField, self.fields["level"]).choices = level_choices(school)

    def clean_text(self) -> str:
        text = " ".join(self.cleaned_data["text"].split())
        check_placeholders(text)
        limit = _comment_limit(self.school)
        if len(text.replace(PLACEHOLDER, "")) > limit:
            raise ValidationError(
                _("Longer than the school's comment limit of %(limit)s characters."),
                params={"limit": limit},
            )
        return text


def _comment_limit(school: School) -> int:
    found = GradebookSettings.objects.filter(school=school).first()
    return (found or GradebookSettings(school=school)).comment_max_length


class PhraseFilterForm(forms.Form):
    subject = SubjectChoiceField(
        label=_("Subject"), queryset=Subject.objects.none(), required=False
    )

    def __init__(self, *args: Any, school: School, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        subject = cast(forms.ModelChoiceField, self.fields["subject"])
        subject.queryset = school.subjects.all()
        subject.empty_label = _("All subjects")


# --- Excel import -----------------------------------------------------------------------------


class GradebookUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Gradebook file (.xlsx)"),
        widget=forms.FileInput(attrs={"accept": ".xlsx"}),
    )

    def clean_file(self) -> object:
        upload = self.cleaned_data["file"]
        if upload.size > settings.ROSTER_IMPORT_MAX_BYTES:
            raise ValidationError(too_large_message(upload.size))
        if not upload.name.lower().endswith(".xlsx"):
            raise ValidationError(_("Upload the .xlsx file exported from this gradebook."))
        return upload
