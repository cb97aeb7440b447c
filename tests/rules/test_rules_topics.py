"""Learning-topic clusters in the number of regular marks
(docs/regulations.md#learning-topic-clusters): Circular 22, Article 7 counts a subject's periods
a year; a student who takes the subject's clusters has the clusters' 35 periods counted too."""

from __future__ import annotations

import pytest

from gradebook.rules.topics import TOPIC_CLUSTER_PERIODS, regular_mark_count_with_topics


@pytest.mark.parametrize(
    ("subject", "periods", "without", "with_clusters"),
    [
        ("Physics, an elective", 70, 3, 4),  # 70 + 35 = 105 > 70
        ("History, compulsory", 52, 3, 4),  # 52 + 35 = 87 > 70
        ("Mathematics", 105, 4, 4),  # already more than 70: 4 is the most
        ("Literature", 105, 4, 4),
        ("a 35-period subject", 35, 2, 3),  # 35 + 35 = 70: up to 70 → 3
        ("a 36-period subject", 36, 3, 4),  # 36 + 35 = 71 > 70
    ],
)
def test_clusters_add_their_periods_before_counting(subject, periods, without, with_clusters):
    count = regular_mark_count_with_topics
    assert count(periods, with_topics=False) == without, subject
    assert count(periods, with_topics=True) == with_clusters, subject


def test_a_comment_assessed_subject_keeps_two_marks_with_clusters():
    assert regular_mark_count_with_topics(70, assessed_by="comment", with_topics=True) == 2


def test_the_clusters_periods_are_a_parameter():
    assert TOPIC_CLUSTER_PERIODS == 35
    assert regular_mark_count_with_topics(70, with_topics=True, topic_periods=0) == 3
    assert regular_mark_count_with_topics(30, with_topics=True, topic_periods=5) == 2
    with pytest.raises(ValueError):
        regular_mark_count_with_topics(70, with_topics=True, topic_periods=-1)
