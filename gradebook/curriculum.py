"""What the gradebook reads from a subject's curriculum entry (`schools.CurriculumEntry`): how
many regular marks a term of the subject has. The entry holds the school's data (periods per
year, how the subject is assessed, an override); the regulation's arithmetic is in
gradebook/rules."""

from __future__ import annotations

from gradebook.rules.secondary import regular_mark_count
from schools.models import Assessment, CurriculumEntry


def regular_marks_per_term(entry: CurriculumEntry) -> int:
    """Regular marks per term, Circular 22 (docs/regulations.md#how-many-marks-per-term): none
    in primary, the school's override where it set one, else as many as the periods ask."""
    if entry.assessment == Assessment.PRIMARY:
        return 0
    if entry.regular_marks_override:
        return entry.regular_marks_override
    return regular_mark_count(entry.periods_per_year, assessed_by=entry.assessment)
