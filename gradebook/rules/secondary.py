"""Lower and upper secondary (grades 6-12): Circular 22/2021/TT-BGDĐT.

As restated in docs/regulations.md#secondary-school. The public face of the secondary rules;
the implementations live in named parts: :mod:`.averages` (marks, averages, comment-assessed
subjects), :mod:`.subject_term` (the marks a subject's term needs and its term result: the one
rule every reader of a term result calls), :mod:`.learning` (learning level and the Article 9
clause 3 adjustment) and :mod:`.year_end` (conduct, awards, promotion).
"""

from __future__ import annotations

from .averages import (
    comment_term_result,
    comment_year_result,
    explain_comment_term_result,
    explain_term_average,
    explain_year_average,
    parse_score,
    regular_mark_count,
    term_average,
    year_average,
)
from .codes import (
    AssessedBy,
    CommentResult,
    Level,
    NextStep,
    PromotionReason,
    SecondaryAward,
    TermAssessment,
    parse_comment_result,
    parse_level,
)
from .learning import LearningLevel, learning_level, table_level
from .options import DEFAULT, AdjustmentPolicy, FewSubjectsPolicy, RulesOptions
from .subject_term import (
    RequiredMark,
    SubjectTermResult,
    TermMarks,
    mark_label,
    required_marks,
    subject_term_result,
)
from .year_end import (
    MAX_ABSENCES,
    Promotion,
    award,
    conduct_year,
    explain_award,
    explain_conduct_year,
    promotion,
    reassessed_learning_level,
    summer_reassessment_subjects,
)

__all__ = [
    "DEFAULT",
    "MAX_ABSENCES",
    "AdjustmentPolicy",
    "AssessedBy",
    "CommentResult",
    "FewSubjectsPolicy",
    "LearningLevel",
    "Level",
    "NextStep",
    "Promotion",
    "PromotionReason",
    "RequiredMark",
    "RulesOptions",
    "SecondaryAward",
    "SubjectTermResult",
    "TermAssessment",
    "TermMarks",
    "award",
    "comment_term_result",
    "comment_year_result",
    "conduct_year",
    "explain_award",
    "explain_comment_term_result",
    "explain_conduct_year",
    "explain_term_average",
    "explain_year_average",
    "learning_level",
    "mark_label",
    "parse_comment_result",
    "parse_level",
    "parse_score",
    "promotion",
    "reassessed_learning_level",
    "regular_mark_count",
    "required_marks",
    "subject_term_result",
    "summer_reassessment_subjects",
    "table_level",
    "term_average",
    "year_average",
]
