"""The marks member of a transfer package: ``marks/<student code>.json``.

A single (transfer) package of a student who left before the year ended carries, next to the
transcript of the year so far, the individual marks of the year's gradebook cells, so that the
new school can carry them into its own gradebook (:mod:`transcripts.transfer_marks`). The
manifest lists the member with its size and SHA-256 like every other file, so the seal covers
it. The document is canonical JSON (UTF-8, keys sorted, no insignificant white space; marks
sorted by subject code, term, kind, slot) so that the same marks give the same bytes::

    {"class_name": "6A1", "format": "sodiem-marks-1", "grade": 6, "left_on": "2026-03-02",
     "marks": [{"event_hash": "…", "event_seq": 12, "kind": "tx", "slot": "1",
                "subject": "TOAN", "term": 1, "value": "8"}, …],
     "school_code": "SCHOOLA", "school_year": "2025-2026", "student_code": "HS000001"}

``subject`` is null for the homeroom book's cells (conduct, absences, comments);
``event_seq``/``event_hash`` name the sending school's ledger event that set the value (null
for a value written before the ledger). :func:`parse_marks` is strict: a document that does not
hold together is refused whole.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import re

from gradebook.models import Kind
from gradebook.transfers import TERMS, TransferredMark

FORMAT = "sodiem-marks-1"
#: A year's marks of one student are a few hundred cells of a few bytes each.
MARKS_MAX_BYTES = 1024 * 1024
MARKS_MAX_ENTRIES = 5000
_KEYS = {
    "format", "school_code", "school_year", "student_code", "class_name", "grade", "left_on",
    "marks",
}  # fmt: skip
_MARK_KEYS = {"subject", "term", "kind", "slot", "value", "event_seq", "event_hash"}
_HASH = re.compile(r"[0-9a-f]{64}")
_YEAR = re.compile(r"\d{4}-\d{4}")


class MarksError(ValueError):
    """The marks document cannot be read or does not follow the format."""


@dataclasses.dataclass(frozen=True)
class MarksDocument:
    school_code: str
    school_year: str
    student_code: str
    class_name: str
    grade: int
    left_on: datetime.date
    marks: tuple[TransferredMark, ...]


def marks_json(document: MarksDocument) -> bytes:
    """The document's canonical bytes."""
    data = {
        "format": FORMAT,
        "school_code": document.school_code,
        "school_year": document.school_year,
        "student_code": document.student_code,
        "class_name": document.class_name,
        "grade": document.grade,
        "left_on": document.left_on.isoformat(),
        "marks": [
            {
                "subject": mark.subject_code,
                "term": mark.term,
                "kind": mark.kind,
                "slot": mark.slot,
                "value": mark.value,
                "event_seq": mark.event_seq,
                "event_hash": mark.event_hash,
            }
            for mark in sorted(document.marks, key=lambda mark: mark.cell)
        ],
    }
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def _text(value: object, what: str, *, limit: int, empty: bool = False) -> str:
    if not isinstance(value, str) or len(value) > limit or (not empty and not value):
        raise MarksError(f"{what} must be a text of 1 to {limit} characters")
    return value


def _mark(item: object) -> TransferredMark:
    if not isinstance(item, dict) or set(item) != _MARK_KEYS:
        raise MarksError(f"each mark must have exactly the keys {sorted(_MARK_KEYS)}")
    subject = item["subject"]
    if subject is not None:
        _text(subject, "subject", limit=20)
    term, seq, digest = item["term"], item["event_seq"], item["event_hash"]
    if type(term) is not int or term not in TERMS:
        raise MarksError("term must be 1 or 2")
    if item["kind"] not in Kind.values:
        raise MarksError(f"unknown kind {str(item['kind'])[:20]!r}")
    if (seq is None) != (digest is None):
        raise MarksError("event_seq and event_hash go together")
    if seq is not None and (type(seq) is not int or seq < 1):
        raise MarksError("event_seq must be a positive integer")
    if digest is not None and not (isinstance(digest, str) and _HASH.fullmatch(digest)):
        raise MarksError("event_hash must be 64 lower-case hexadecimal digits")
    return TransferredMark(
        subject_code=subject,
        term=term,
        kind=item["kind"],
        slot=_text(item["slot"], "slot", limit=40, empty=True),
        value=_text(item["value"], "value", limit=2000),
        event_seq=seq,
        event_hash=digest,
    )


def parse_marks(data: bytes) -> MarksDocument:
    """Read and check a marks document (bounded: :data:`MARKS_MAX_BYTES`)."""
    if len(data) > MARKS_MAX_BYTES:
        raise MarksError("larger than the format allows")
    try:
        found = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise MarksError(f"not readable JSON ({exc})") from exc
    if not isinstance(found, dict) or set(found) != _KEYS or found["format"] != FORMAT:
        raise MarksError(f"not a {FORMAT} document")
    marks = found["marks"]
    if not isinstance(marks, list) or len(marks) > MARKS_MAX_ENTRIES:
        raise MarksError(f"marks must be a list of at most {MARKS_MAX_ENTRIES}")
    parsed = tuple(_mark(item) for item in marks)
    if len({mark.cell for mark in parsed}) != len(parsed):
        raise MarksError("a cell appears twice")
    grade = found["grade"]
    if type(grade) is not int or not 1 <= grade <= 12:
        raise MarksError("grade must be 1 to 12")
    year = _text(found["school_year"], "school_year", limit=9)
    if not _YEAR.fullmatch(year):
        raise MarksError("school_year must be like 2025-2026")
    try:
        left_on = datetime.date.fromisoformat(_text(found["left_on"], "left_on", limit=10))
    except ValueError as exc:
        raise MarksError("left_on must be a date (YYYY-MM-DD)") from exc
    return MarksDocument(
        school_code=_text(found["school_code"], "school_code", limit=20),
        school_year=year,
        student_code=_text(found["student_code"], "student_code", limit=40),
        class_name=_text(found["class_name"], "class_name", limit=100),
        grade=grade,
        left_on=left_on,
        marks=parsed,
    )
