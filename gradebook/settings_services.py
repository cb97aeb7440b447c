"""The writes behind the gradebook's settings pages: the school's gradebook settings and its
comment bank, one transaction each (the marks' writes are :mod:`gradebook.services`)."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from gradebook.models import CommentPhrase, GradebookSettings, ReassessmentEntry
from gradebook.rules import AdjustmentPolicy, FewSubjectsPolicy
from schools.models import School, Subject

#: Where a comment-bank phrase puts the student's name.
PLACEHOLDER = "{name}"


@transaction.atomic
def save_gradebook_settings(
    *,
    school: School,
    comment_max_length: int,
    adjustment: str,
    few_scored_subjects: str,
    reassessment_entered_by: str = ReassessmentEntry.SUBJECT_TEACHER,
) -> GradebookSettings:
    """Create or update the school's gradebook settings."""
    found, _created = GradebookSettings.objects.select_for_update().get_or_create(school=school)
    found.comment_max_length = comment_max_length
    found.adjustment = AdjustmentPolicy(adjustment).value
    found.few_scored_subjects = FewSubjectsPolicy(few_scored_subjects).value
    found.reassessment_entered_by = ReassessmentEntry(reassessment_entered_by).value
    found.full_clean()
    found.save()
    return found


def check_placeholders(text: str) -> None:
    """Only {name} may appear between braces; raises ValidationError naming what is wrong."""
    rest = text.replace(PLACEHOLDER, "")
    if "{" not in rest and "}" not in rest:
        return
    wrong = re.findall(r"\{[^{}]*\}", rest)
    if wrong:
        raise ValidationError(
            _("Only the {name} placeholder is allowed. Correct or remove: %(wrong)s."),
            code="placeholder",
            params={"wrong": ", ".join(dict.fromkeys(wrong))},
        )
    raise ValidationError(
        _("A brace { or } is not part of a placeholder. Write the placeholder exactly as {name}."),
        code="brace",
    )


@transaction.atomic
def save_comment_phrase(
    *,
    school: School,
    phrase: CommentPhrase | None = None,
    subject: Subject | None,
    level: str,
    text: str,
) -> CommentPhrase:
    """Add a phrase to the school's comment bank, or change one of its phrases."""
    if subject is not None and subject.school_id != school.pk:
        raise ValidationError({"subject": _("This subject is not taught in this school.")})
    check_placeholders(text)
    phrase = phrase or CommentPhrase(school=school)
    if phrase.school_id != school.pk:
        raise ValidationError(_("This phrase belongs to another school."))
    phrase.subject, phrase.level, phrase.text = subject, level, text
    phrase.full_clean()
    phrase.save()
    return phrase


@transaction.atomic
def delete_comment_phrase(*, school: School, phrase: CommentPhrase) -> None:
    if phrase.school_id != school.pk:
        raise ValidationError(_("This phrase belongs to another school."))
    phrase.delete()
