"""The regulation's codes as string enums, and the parsers that validate typed codes.

Every enum is a ``StrEnum`` whose values are the regulation's codes, so ``Level.FAIR == "K"`` and a
result can be stored or compared as the plain string. The stored codes are ASCII (``D``, ``CD``);
the letters the regulation prints are ``Đ``/``CĐ`` (:data:`VIETNAMESE_LETTERS`). The parsers
accept the code, its Vietnamese letter (``Đ``, ``CĐ``) and the level's word (``Đạt``, ``Chưa
đạt``, ``Cần cố gắng``), case-insensitive, trimmed, and the word with or without its diacritics
(``chua dat``). No other abbreviations are accepted (docs/regulations.md#typing-level-codes).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from enum import StrEnum
from typing import TypeVar

from .errors import EMPTY_LEVEL, UNKNOWN_LEVEL, InvalidMark, quote_input
from .explain import LEVEL_NAMES_VI

__all__ = [
    "VIETNAMESE_LETTERS",
    "AssessedBy",
    "CommentResult",
    "Level",
    "NextStep",
    "PrimaryAward",
    "PrimaryResult",
    "PromotionReason",
    "QualityLevel",
    "SecondaryAward",
    "SubjectLevel",
    "TermAssessment",
    "parse_comment_result",
    "parse_level",
    "parse_primary_result",
    "parse_quality_level",
    "parse_subject_level",
    "vietnamese_letter",
]


class AssessedBy(StrEnum):
    """How a secondary subject is assessed (docs/regulations.md#two-kinds-of-subject)."""

    #: Đánh giá bằng nhận xét: result D/CD only.
    COMMENT = "comment"
    #: Đánh giá bằng nhận xét kết hợp với điểm số: comment plus a 0-10 score.
    SCORE = "score"


class TermAssessment(StrEnum):
    """The three assessments of a secondary subject's term, by the code a gradebook cell stores
    (docs/regulations.md#how-many-marks-per-term)."""

    #: Đánh giá thường xuyên (ĐĐGtx): regular marks, weight 1.
    REGULAR = "tx"
    #: Đánh giá giữa kỳ (ĐĐGgk): the mid-term mark, weight 2.
    MIDTERM = "gk"
    #: Đánh giá cuối kỳ (ĐĐGck): the end-of-term mark, weight 3.
    FINAL = "ck"


class Level(StrEnum):
    """Kết quả học tập / kết quả rèn luyện levels, best first.

    docs/regulations.md#learning-result, docs/regulations.md#conduct.
    """

    #: Tốt (Good)
    GOOD = "T"
    #: Khá (Fair)
    FAIR = "K"
    #: Đạt (Pass). Named "achieved" (the literal sense of Đạt) rather than "pass", a word
    #: security linters mistake for a password.
    ACHIEVED = "D"
    #: Chưa đạt (Not yet pass)
    NOT_YET_ACHIEVED = "CD"

    @property
    def rank(self) -> int:
        """0 for the best level (T) to 3 for the lowest (CD)."""
        return _LEVEL_ORDER.index(self)

    def raised(self) -> Level:
        """The level one step better (T stays T)."""
        return _LEVEL_ORDER[max(self.rank - 1, 0)]


_LEVEL_ORDER: tuple[Level, ...] = (Level.GOOD, Level.FAIR, Level.ACHIEVED, Level.NOT_YET_ACHIEVED)


class CommentResult(StrEnum):
    """Result of a comment-assessed subject (docs/regulations.md#comment-assessed-subjects)."""

    #: Đạt (Pass)
    ACHIEVED = "D"
    #: Chưa đạt (Not yet pass)
    NOT_YET_ACHIEVED = "CD"


class SubjectLevel(StrEnum):
    """Primary subject or activity level, best first (docs/regulations.md#what-is-assessed)."""

    #: Hoàn thành tốt (Completed well)
    COMPLETED_WELL = "HTT"
    #: Hoàn thành (Completed)
    COMPLETED = "HT"
    #: Chưa hoàn thành (Not completed)
    NOT_COMPLETED = "CHT"


class QualityLevel(StrEnum):
    """Primary level of a quality or competency, best first
    (docs/regulations.md#what-is-assessed)."""

    #: Tốt (Good)
    GOOD = "T"
    #: Đạt (Pass)
    ACHIEVED = "D"
    #: Cần cố gắng (Needs effort)
    NEEDS_EFFORT = "CCG"


class PrimaryResult(StrEnum):
    """Primary end-of-year overall result, best first (docs/regulations.md#overall-result)."""

    #: Hoàn thành xuất sắc (Completed with excellence)
    EXCELLENT = "HTXS"
    #: Hoàn thành tốt (Completed well)
    COMPLETED_WELL = "HTT"
    #: Hoàn thành (Completed)
    COMPLETED = "HT"
    #: Chưa hoàn thành (Not completed)
    NOT_COMPLETED = "CHT"


class SecondaryAward(StrEnum):
    """End-of-year secondary award (docs/regulations.md#secondary-awards)."""

    #: Học sinh Xuất sắc
    EXCELLENT = "excellent"
    #: Học sinh Giỏi
    GOOD = "good"


class PrimaryAward(StrEnum):
    """End-of-year primary award (docs/regulations.md#primary-awards)."""

    #: Học sinh Xuất sắc
    EXCELLENT = "excellent"
    #: Học sinh Tiêu biểu hoàn thành tốt trong học tập và rèn luyện
    EXEMPLARY = "exemplary"


class PromotionReason(StrEnum):
    """A promotion condition that failed (docs/regulations.md#promotion)."""

    #: Year conduct (kết quả rèn luyện cả năm) is CD.
    CONDUCT = "conduct"
    #: Year learning result (kết quả học tập cả năm) is CD.
    LEARNING = "learning"
    #: More than 45 sessions (buổi) absent in the year.
    ABSENCES = "absences"


class NextStep(StrEnum):
    """What happens to a student who is not (yet) promoted (docs/regulations.md#promotion)."""

    #: Rèn luyện trong kỳ nghỉ hè: summer conduct training, then conduct is re-assessed.
    SUMMER_TRAINING = "summer_training"
    #: Kiểm tra, đánh giá lại: summer re-assessment of the failing subjects.
    REASSESSMENT = "reassessment"
    #: Ở lại lớp: repeats the grade.
    RETAINED = "retained"


_E = TypeVar("_E", bound=StrEnum)

# Letters a level code may be typed with: ASCII letters and the Vietnamese đ/Đ. Checked before
# upper-casing, so that exotic letters whose upper case is ASCII (U+017F long s -> "S") are refused.
_CODE_SHAPE = re.compile(r"[A-Za-zĐđ]+")
#: The codes the regulation writes with the letter Đ, which the stored codes spell with D.
VIETNAMESE_LETTERS = {"D": "Đ", "CD": "CĐ"}
_D_ALIASES = {letter: code for code, letter in VIETNAMESE_LETTERS.items()}
# A level's word once folded (_folded): ASCII capitals and single spaces.
_WORD_SHAPE = re.compile(r"[A-Z]+(?: [A-Z]+)*")


def vietnamese_letter(code: object) -> str:
    """The code as the regulation writes it: ``"D"`` → ``"Đ"``, ``"CD"`` → ``"CĐ"``, others
    as they are."""
    return VIETNAMESE_LETTERS.get(str(code), str(code))


def _folded(text: str) -> str:
    """``text`` without diacritics, in capitals, its spaces single: "Chưa  đạt" → "CHUA DAT"."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.upper().split())


@functools.lru_cache(maxsize=1024)
def _member(text: str, enum: type[_E]) -> _E | None:
    """The member ``text`` names (its code, Vietnamese letter or word), or None. Cached: a
    class summary parses some 4,000 codes, all among a handful of strings."""
    candidate = unicodedata.normalize("NFC", text.strip())
    if _CODE_SHAPE.fullmatch(candidate):
        code = candidate.upper()
        code = _D_ALIASES.get(code, code)
        for member in enum:
            if member.value == code:
                return member
    word = _folded(candidate)
    if _WORD_SHAPE.fullmatch(word):  # ASCII once folded: no look-alike letters
        for member in enum:
            if member.value in LEVEL_NAMES_VI and _folded(LEVEL_NAMES_VI[member.value]) == word:
                return member
    return None


def _allowed(enum: type[StrEnum]) -> str:
    """The levels of ``enum`` as an error lists them: "T (Tốt), Đ (Đạt), CCG (Cần cố gắng)"."""
    return ", ".join(
        f"{vietnamese_letter(m.value)} ({LEVEL_NAMES_VI[m.value]})"
        if m.value in LEVEL_NAMES_VI
        else m.value
        for m in enum
    )


def _parse_code(text: object, enum: type[_E]) -> _E:
    """Parse a typed code into ``enum``: its code, its Vietnamese letter (``Đ``/``CĐ`` for
    ``D``/``CD``) or its word."""
    if isinstance(text, enum):
        return text
    if text is None or (isinstance(text, str) and not text.strip()):
        raise InvalidMark(EMPTY_LEVEL, code="empty")
    if isinstance(text, str):
        member: _E | None = _member(text, enum)  # lru_cache's wrapper loses the type variable
        if member is not None:
            return member
    raise InvalidMark(
        UNKNOWN_LEVEL,
        code="unknown_level",
        params={"value": quote_input(text), "allowed": _allowed(enum)},
    )


def parse_level(text: str) -> Level:
    """Parse a learning or conduct level ``T``/``K``/``D``/``CD``.

    Accepts ``Đ``/``CĐ`` for ``D``/``CD`` and the words (``Tốt``, ``Khá``, ``Đạt``, ``Chưa đạt``,
    with or without diacritics), any letter case, surrounding spaces
    (docs/regulations.md#typing-level-codes). Raises :class:`InvalidMark` for anything else.
    """
    return _parse_code(text, Level)


def parse_comment_result(text: str) -> CommentResult:
    """Parse a comment-assessed subject result ``D``/``CD``; ``Đ``/``CĐ`` accepted
    (docs/regulations.md#typing-level-codes)."""
    return _parse_code(text, CommentResult)


def parse_subject_level(text: str) -> SubjectLevel:
    """Parse a primary subject level ``HTT``/``HT``/``CHT``
    (docs/regulations.md#typing-level-codes)."""
    return _parse_code(text, SubjectLevel)


def parse_quality_level(text: str) -> QualityLevel:
    """Parse a primary quality/competency level ``T``/``D``/``CCG``; ``Đ`` accepted
    (docs/regulations.md#typing-level-codes)."""
    return _parse_code(text, QualityLevel)


def parse_primary_result(text: str) -> PrimaryResult:
    """Parse a primary overall result ``HTXS``/``HTT``/``HT``/``CHT``
    (docs/regulations.md#typing-level-codes, docs/regulations.md#overall-result)."""
    return _parse_code(text, PrimaryResult)
