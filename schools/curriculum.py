"""Default subjects of the 2018 general education programme (docs/curriculum.md).

A school's curriculum is created from these defaults when its first year is set up and is then
the school's own to edit (periods change by circular; schools add electives).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

SCORE, COMMENT, PRIMARY = "score", "comment", "primary"


@dataclass(frozen=True)
class DefaultSubject:
    code: str
    name: str
    name_en: str
    assessment: str
    periods: dict[int, int]  # grade → periods per year; a grade not listed does not study it
    periodic_test: bool = False
    midterm_test_grades: tuple[int, ...] = ()


def _all(grades: range, periods: int) -> dict[int, int]:
    return dict.fromkeys(grades, periods)


P, L, U = range(1, 6), range(6, 10), range(10, 13)

PRIMARY_SUBJECTS = (
    DefaultSubject(
        "TV",
        "Tiếng Việt",
        "Vietnamese",
        PRIMARY,
        {1: 420, 2: 350, 3: 245, 4: 245, 5: 245},
        True,
        (4, 5),
    ),
    DefaultSubject(
        "TOAN",
        "Toán",
        "Mathematics",
        PRIMARY,
        {1: 105, 2: 175, 3: 175, 4: 175, 5: 175},
        True,
        (4, 5),
    ),
    DefaultSubject(
        "NN1", "Ngoại ngữ 1", "Foreign language 1", PRIMARY, _all(range(3, 6), 140), True
    ),
    DefaultSubject("DD", "Đạo đức", "Ethics", PRIMARY, _all(P, 35)),
    DefaultSubject(
        "TNXH", "Tự nhiên và Xã hội", "Nature and society", PRIMARY, _all(range(1, 4), 70)
    ),
    DefaultSubject(
        "LSDL", "Lịch sử và Địa lí", "History and geography", PRIMARY, _all(range(4, 6), 70), True
    ),
    DefaultSubject("KH", "Khoa học", "Science", PRIMARY, _all(range(4, 6), 70), True),
    DefaultSubject(
        "THCN",
        "Tin học và Công nghệ",
        "Informatics and technology",
        PRIMARY,
        _all(range(3, 6), 70),
        True,
    ),
    DefaultSubject("GDTC", "Giáo dục thể chất", "Physical education", PRIMARY, _all(P, 70)),
    DefaultSubject("AN", "Âm nhạc", "Music", PRIMARY, _all(P, 35)),
    DefaultSubject("MT", "Mĩ thuật", "Fine arts", PRIMARY, _all(P, 35)),
    DefaultSubject(
        "HDTN", "Hoạt động trải nghiệm", "Experiential activities", PRIMARY, _all(P, 105)
    ),
)

LOWER_SECONDARY_SUBJECTS = (
    DefaultSubject("NV", "Ngữ văn", "Literature", SCORE, _all(L, 140)),
    DefaultSubject("TOAN", "Toán", "Mathematics", SCORE, _all(L, 140)),
    DefaultSubject("NN1", "Ngoại ngữ 1", "Foreign language 1", SCORE, _all(L, 105)),
    DefaultSubject("GDCD", "Giáo dục công dân", "Civic education", SCORE, _all(L, 35)),
    DefaultSubject("LSDL", "Lịch sử và Địa lí", "History and geography", SCORE, _all(L, 105)),
    DefaultSubject("KHTN", "Khoa học tự nhiên", "Natural science", SCORE, _all(L, 140)),
    DefaultSubject("CN", "Công nghệ", "Technology", SCORE, {6: 35, 7: 35, 8: 52, 9: 52}),
    DefaultSubject("TIN", "Tin học", "Informatics", SCORE, _all(L, 35)),
    DefaultSubject("GDTC", "Giáo dục thể chất", "Physical education", COMMENT, _all(L, 70)),
    DefaultSubject("NT", "Nghệ thuật (Âm nhạc, Mĩ thuật)", "Arts", COMMENT, _all(L, 70)),
    DefaultSubject(
        "HDTN",
        "Hoạt động trải nghiệm, hướng nghiệp",
        "Experiential & career guidance",
        COMMENT,
        _all(L, 105),
    ),
    DefaultSubject(
        "GDDP", "Nội dung giáo dục của địa phương", "Local education content", COMMENT, _all(L, 35)
    ),
)

UPPER_SECONDARY_SUBJECTS = (
    DefaultSubject("NV", "Ngữ văn", "Literature", SCORE, _all(U, 105)),
    DefaultSubject("TOAN", "Toán", "Mathematics", SCORE, _all(U, 105)),
    DefaultSubject("NN1", "Ngoại ngữ 1", "Foreign language 1", SCORE, _all(U, 105)),
    DefaultSubject("LS", "Lịch sử", "History", SCORE, _all(U, 52)),
    DefaultSubject(
        "GDQPAN",
        "Giáo dục quốc phòng và an ninh",
        "National defence and security",
        SCORE,
        _all(U, 35),
    ),
    DefaultSubject("DL", "Địa lí", "Geography", SCORE, _all(U, 70)),
    DefaultSubject(
        "GDKTPL", "Giáo dục kinh tế và pháp luật", "Economics and law", SCORE, _all(U, 70)
    ),
    DefaultSubject("VL", "Vật lí", "Physics", SCORE, _all(U, 70)),
    DefaultSubject("HH", "Hóa học", "Chemistry", SCORE, _all(U, 70)),
    DefaultSubject("SH", "Sinh học", "Biology", SCORE, _all(U, 70)),
    DefaultSubject("CN", "Công nghệ", "Technology", SCORE, _all(U, 70)),
    DefaultSubject("TIN", "Tin học", "Informatics", SCORE, _all(U, 70)),
    DefaultSubject("AN", "Âm nhạc", "Music", COMMENT, _all(U, 70)),
    DefaultSubject("MT", "Mĩ thuật", "Fine arts", COMMENT, _all(U, 70)),
    DefaultSubject("GDTC", "Giáo dục thể chất", "Physical education", COMMENT, _all(U, 70)),
    DefaultSubject(
        "HDTN",
        "Hoạt động trải nghiệm, hướng nghiệp",
        "Experiential & career guidance",
        COMMENT,
        _all(U, 105),
    ),
    DefaultSubject(
        "GDDP", "Nội dung giáo dục của địa phương", "Local education content", COMMENT, _all(U, 35)
    ),
)


def default_subject_orders(grades: Iterable[int]) -> dict[str, int]:
    """Code → the subject's order among the default subjects these grades study: 1, 2, 3… in
    the programme's order (primary's list, then lower and upper secondary's), each code once
    (a multi-level school's TOAN keeps the number of its first appearance)."""
    grades = set(grades)
    numbers: dict[str, int] = {}
    for catalogue in (PRIMARY_SUBJECTS, LOWER_SECONDARY_SUBJECTS, UPPER_SECONDARY_SUBJECTS):
        for subject in catalogue:
            if grades & subject.periods.keys() and subject.code not in numbers:
                numbers[subject.code] = len(numbers) + 1
    return numbers


def default_subjects_for_grade(grade: int) -> list[tuple[DefaultSubject, int]]:
    """(subject, periods) for every default subject a grade studies."""
    catalogue: tuple[DefaultSubject, ...]
    if grade <= 5:
        catalogue = PRIMARY_SUBJECTS
    elif grade <= 9:
        catalogue = LOWER_SECONDARY_SUBJECTS
    else:
        catalogue = UPPER_SECONDARY_SUBJECTS
    return [(s, s.periods[grade]) for s in catalogue if grade in s.periods]
