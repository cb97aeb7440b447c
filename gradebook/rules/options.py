"""Named interpretations of the regulation, settable per school or per province.

Where the law is ambiguous, the project takes a **decision**
(docs/regulations.md#interpretations-the-school-can-set); each decision is an enum here whose
default is the documented choice. A school's setting is stored as the enum's string value (see
:meth:`RulesOptions.from_mapping`) and passed to the rule functions as ``options=``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from enum import StrEnum

__all__ = ["DEFAULT", "AdjustmentPolicy", "FewSubjectsPolicy", "RulesOptions"]


class AdjustmentPolicy(StrEnum):
    """Which subject may be "the one single subject" of Circular 22, Article 9, clause 3.

    The clause raises a learning level by one step when it is two or more steps below ``T`` or
    ``K`` only because of one subject (docs/regulations.md#one-subject-adjustment). Either way,
    the test is: treat that subject as meeting every threshold (score 10 / ``D``), recompute,
    and adjust when the recomputed level is ``T`` or ``K`` and at least two steps above the
    computed one.
    """

    #: Default (documented decision): score-assessed and comment-assessed subjects both count.
    ANY_SUBJECT = "any_subject"
    #: Only a score-assessed subject can trigger the adjustment; a single ``CD`` in a
    #: comment-assessed subject never does.
    SCORED_SUBJECTS_ONLY = "scored_subjects_only"


class FewSubjectsPolicy(StrEnum):
    """How "at least 6 subjects" reads for a student with fewer than 6 score-assessed subjects.

    Applies to the learning-level table and to the "at least 6 subjects ≥ 9.0" condition of the
    Học sinh Xuất sắc award. Such students exist because of exemptions
    (docs/regulations.md#fewer-than-six-score-assessed-subjects).
    """

    #: Default (documented decision): every one of the student's score-assessed subjects must meet
    #: the condition (the count required is min(6, number of score-assessed subjects)).
    ALL_MUST_MEET = "all_must_meet"
    #: Literal reading: six subjects are required whatever the student takes, so a student with
    #: fewer than six score-assessed subjects can never meet an "at least 6" condition.
    LITERAL_SIX = "literal_six"

    def required(self, scored_subjects: int, *, at_least: int = 6) -> int:
        """How many subjects must meet an "at least ``at_least`` subjects" condition."""
        if self is FewSubjectsPolicy.LITERAL_SIX:
            return at_least
        return min(at_least, scored_subjects)


@dataclass(frozen=True)
class RulesOptions:
    """The interpretation settings in force for one school (or province)."""

    adjustment: AdjustmentPolicy = AdjustmentPolicy.ANY_SUBJECT
    few_scored_subjects: FewSubjectsPolicy = FewSubjectsPolicy.ALL_MUST_MEET

    def __post_init__(self) -> None:
        # Accept the stored string values, reject anything unknown loudly.
        object.__setattr__(self, "adjustment", AdjustmentPolicy(self.adjustment))
        object.__setattr__(self, "few_scored_subjects", FewSubjectsPolicy(self.few_scored_subjects))

    @classmethod
    def from_mapping(cls, values: Mapping[str, str]) -> RulesOptions:
        """Build options from stored settings; unknown keys or values raise ``ValueError``."""
        known = {field.name for field in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown rules option(s): {', '.join(sorted(unknown))}")
        return cls(**values)  # type: ignore[arg-type]  # str → enum: __post_init__ converts and checks

    def as_mapping(self) -> dict[str, str]:
        """The settings as plain strings, suitable for a JSON field."""
        return {field.name: str(getattr(self, field.name)) for field in fields(self)}


#: The documented defaults (docs/regulations.md#interpretations-the-school-can-set).
DEFAULT = RulesOptions()
