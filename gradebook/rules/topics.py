"""Learning-topic clusters (cụm chuyên đề học tập) in the number of regular marks: upper
secondary, Circular 22/2021/TT-BGDĐT, Article 7 (docs/regulations.md#learning-topic-clusters).

The count of regular marks follows a subject's periods a year; for a student who takes the
subject's learning-topic clusters, those periods include the clusters' (35 a year by default).
"""

from __future__ import annotations

from .averages import regular_mark_count
from .codes import AssessedBy

#: Periods a year of one subject's learning-topic clusters in the 2018 programme (three
#: clusters a year, 35 periods together).
TOPIC_CLUSTER_PERIODS = 35


def regular_mark_count_with_topics(
    periods_per_year: int,
    *,
    assessed_by: AssessedBy | str = AssessedBy.SCORE,
    with_topics: bool,
    topic_periods: int = TOPIC_CLUSTER_PERIODS,
) -> int:
    """Regular marks (ĐĐGtx) per term of a subject for one student
    (docs/regulations.md#learning-topic-clusters): the periods a year, plus the clusters'
    periods when the student takes them, counted by the rule of
    docs/regulations.md#how-many-marks-per-term. A comment-assessed subject keeps 2."""
    if isinstance(topic_periods, bool) or not isinstance(topic_periods, int) or topic_periods < 0:
        raise ValueError(f"topic_periods must be a non-negative int, got {topic_periods!r}")
    periods = periods_per_year + topic_periods if with_topics else periods_per_year
    return regular_mark_count(periods, assessed_by=assessed_by)
