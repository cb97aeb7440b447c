"""What a student of grades 10 to 12 studies: the upper-secondary rules of the 2018 general
education programme (Circular 32/2018/TT-BGDĐT as amended by Circular 13/2022/TT-BGDĐT), as
docs/curriculum.md#subject-choices-in-grades-10-to-12 states them.

Every student studies the compulsory subjects; each chooses four of the nine electives and the
learning-topic clusters (*cụm chuyên đề học tập*) of three subjects they study. Pure Python on
subject codes: the service (schools/subject_choices.py), the roster import and the demo all
call :func:`choice_errors`.
"""

from __future__ import annotations

from collections.abc import Collection

from django.utils.translation import gettext as _

UPPER_GRADES = range(10, 13)

#: Studied by every student (môn học bắt buộc, hoạt động giáo dục bắt buộc).
COMPULSORY = ("NV", "TOAN", "NN1", "LS", "GDQPAN", "GDTC", "HDTN", "GDDP")
#: The nine electives (môn học lựa chọn), of which a student takes ELECTIVE_COUNT.
ELECTIVES = ("DL", "GDKTPL", "VL", "HH", "SH", "CN", "TIN", "AN", "MT")
ELECTIVE_COUNT = 4
#: The subjects that have learning-topic clusters (chuyên đề học tập), of which a student takes
#: TOPIC_COUNT, each of a subject they study.
TOPIC_SUBJECTS = ("NV", "TOAN", "LS", "DL", "GDKTPL", "VL", "HH", "SH", "CN", "TIN", "AN", "MT")
TOPIC_COUNT = 3


def is_upper_secondary(grade: int) -> bool:
    return grade in UPPER_GRADES


def takes(code: str, electives: Collection[str]) -> bool:
    """Whether a student of grades 10-12 with these electives studies the subject: every
    subject that is not one of the nine electives (compulsory, or the school's own), and the
    electives they chose."""
    return code not in ELECTIVES or code in electives


def choice_errors(electives: Collection[str], topics: Collection[str]) -> list[str]:
    """The programme's rules a student's choice breaks, as messages (empty: the choice is
    valid). A choice with neither electives nor topic clusters is "not chosen yet" and valid."""
    electives, topics = set(electives), set(topics)
    if not electives and not topics:
        return []
    errors = []
    for code in sorted(electives - set(ELECTIVES)):
        message = _("%(subject)s is not one of the nine elective subjects.")
        errors.append(message % {"subject": code})
    if len(electives) != ELECTIVE_COUNT:
        errors.append(
            _(
                "Choose exactly four of the nine elective subjects (2018 programme, Circular "
                "13/2022): %(count)s chosen."
            )
            % {"count": len(electives)}
        )
    for code in sorted(topics - set(TOPIC_SUBJECTS)):
        errors.append(_("%(subject)s has no learning-topic clusters.") % {"subject": code})
    for code in sorted((topics & set(TOPIC_SUBJECTS)) - set(COMPULSORY) - electives):
        errors.append(
            _(
                "The learning-topic clusters of %(subject)s need the subject itself: a student "
                "takes the clusters of subjects they study."
            )
            % {"subject": code}
        )
    if len(topics) != TOPIC_COUNT:
        errors.append(
            _(
                "Choose the learning-topic clusters of exactly three subjects (2018 programme, "
                "Circular 13/2022): %(count)s chosen."
            )
            % {"count": len(topics)}
        )
    return errors
