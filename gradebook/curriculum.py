"""What the gradebook reads from a subject's curriculum entry (`schools.CurriculumEntry`): how
many regular marks a term of the subject has. The entry holds the school's data (periods per
year, how the subject is assessed, an override); the regulation's arithmetic is in
gradebook/rules."""

from __future__ import annotations

from gradebook.rules.topics import regular_mark_count_with_topics
from schools.models import Assessment, CurriculumEntry


def regular_marks_per_term(entry: CurriculumEntry, *, with_topics: bool = False) -> int:
    """Regular marks per term, Circular 22 (docs/regulations.md#how-many-marks-per-term): none
    in primary, the school's override where it set one (for every student, clusters or not),
    else as many as the periods ask, the learning-topic clusters' periods included for a
    student of grades 10-12 who takes them (docs/regulations.md#learning-topic-clusters)."""
    if entry.assessment == Assessment.PRIMARY:
        return 0
    if entry.regular_marks_override:
        return entry.regular_marks_override
    return regular_mark_count_with_topics(
        entry.periods_per_year,
        assessed_by=entry.assessment,
        with_topics=with_topics and entry.grade >= 10,
    )
