"""The transcript snapshot: everything printed on one student's học bạ page for one school year.

A snapshot is a plain dict of strings, ints, bools, lists and ``None`` built from
:func:`gradebook.results.student_year_results` (results are never recomputed here, and the
teachers' comments come with them) plus the student's identity. It is what a transcript
version freezes, what the PDF and the XML are rendered from, and what is hashed:
:func:`canonical_json` gives the byte-exact form (sorted keys, UTF-8, no whitespace, NFC) and
:func:`snapshot_digest` its SHA-256.

Every result carries the machine value (``"7.8"``, ``"D"``, ``"HTT"``) and the printed form
(``"7,8"``, ``"Đ"``); a code also carries its word (``"name"``: ``"Đạt"``, ``"Hoàn thành tốt"``),
which is what the page prints: a code never reaches print. Wording is the official form's
Vietnamese, fixed here rather than taken from the translation catalogue, so the digest never
changes when a translation does.

Versions are immutable, so a snapshot stored by an earlier release lacks the keys added since
(the school's place name and principal, the registration number, the subject teachers, the
words of codes): :func:`printable` fills them with their defaults before a page is rendered.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import unicodedata
from decimal import Decimal
from typing import Any

from accounts.models import Membership, Role
from gradebook.columns import COMPETENCIES, QUALITIES
from gradebook.results import (
    PrimaryStudentResults,
    SecondaryStudentResults,
    StudentYearResults,
    student_year_results,
)
from gradebook.results.labels import abbreviation
from gradebook.rules.codes import NextStep
from gradebook.rules.explain import LEVEL_NAMES_VI
from schools.models import ClassGroup, School, SchoolYear, Student, TeachingAssignment

FORMAT = "sodiem.hocba/1"

#: Level names as the printed form spells them (the regulation's own names).
LEVEL_NAMES = LEVEL_NAMES_VI
AWARD_NAMES = {
    ("secondary", "excellent"): "Học sinh Xuất sắc",
    ("secondary", "good"): "Học sinh Giỏi",
    ("primary", "excellent"): "Học sinh Xuất sắc",
    ("primary", "exemplary"): "Học sinh Tiêu biểu hoàn thành tốt trong học tập và rèn luyện",
}
NEXT_STEP_WORDING = {
    NextStep.SUMMER_TRAINING: "Rèn luyện trong kỳ nghỉ hè",
    NextStep.REASSESSMENT: "Kiểm tra, đánh giá lại trong kỳ nghỉ hè",
    NextStep.RETAINED: "Ở lại lớp",
}
SEX_NAMES = {"M": "Nam", "F": "Nữ"}

Snapshot = dict[str, Any]


# --- values ------------------------------------------------------------------------------------


def score_text(value: Decimal) -> str:
    """The machine form of a score: one decimal, point separator ("7.8")."""
    return f"{value:.1f}"


def result(value: object) -> dict[str, str] | None:
    """A result as ``{"value": machine, "display": printed}``; ``None`` while incomplete."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        text = score_text(value)
        return {"value": text, "display": text.replace(".", ",")}
    if isinstance(value, int) and not isinstance(value, bool):
        return {"value": str(value), "display": str(value)}
    code = str(value)
    return {"value": code, "display": abbreviation(code), "name": word(code)}


def word(code: str) -> str:
    """The Vietnamese word a code is printed as (``"CD"`` → "Chưa đạt")."""
    return LEVEL_NAMES.get(code, abbreviation(code))


#: A subject the student is exempt from (miễn học, gradebook.models.Exemption), in a term or the
#: year: printed "Miễn"; the XML value "M" (transcripts/schema/hocba-v1.xsd, subjectResult).
EXEMPT = {"value": "M", "display": "Miễn", "name": "Miễn"}


def subject_result(value: object, *, exempt: bool) -> dict[str, str] | None:
    """A subject's result, or "Miễn" when the student is exempt from it."""
    return dict(EXEMPT) if exempt else result(value)


def level(value: object) -> dict[str, str] | None:
    """A level code with its abbreviation and full name."""
    return result(value)


def learning(value: Any) -> dict[str, Any] | None:
    """A learning level with the Article 9 clause 3 adjustment kept visible."""
    if value is None:
        return None
    shown = level(value.level)
    assert shown is not None  # a learning level always has its level
    shown["unadjusted"] = str(value.unadjusted)
    shown["adjusted_for"] = value.adjusted_for
    return shown


def award(kind: str, results: Any) -> dict[str, str] | None:
    if results.award is None or results.award.award is None:
        return None
    code = str(results.award.award)
    return {"value": code, "display": AWARD_NAMES[(kind, code)]}


# --- identity ----------------------------------------------------------------------------------


def _date_display(day: datetime.date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else ""


def _identity(student: Student) -> dict[str, Any]:
    return {
        "full_name": student.full_name,
        "sex": student.sex,
        "sex_display": SEX_NAMES.get(student.sex, student.sex),
        "date_of_birth": student.date_of_birth.isoformat(),
        "date_of_birth_display": student.date_of_birth.strftime("%d/%m/%Y"),
        "place_of_birth": student.place_of_birth,
        "ethnicity": student.ethnicity,
        "nationality": student.nationality,
        "personal_id": student.personal_id,
        "student_code": student.student_code,
        "residence": student.residence,
        "father_name": student.father_name,
        "mother_name": student.mother_name,
        "guardian_name": student.guardian_name,
        "registration_number": student.registration_number,
        "admission_date": student.admission_date.isoformat() if student.admission_date else None,
        "admission_date_display": _date_display(student.admission_date),
    }


def principal_name(school: School) -> str:
    """The school's active principal's name now ("" if none; the longest-serving if several)."""
    membership = (
        Membership.objects.active()
        .filter(school=school, role=Role.PRINCIPAL, user__is_active=True)
        .select_related("user")
        .order_by("created_at", "pk")
        .first()
    )
    return membership.user.display_name if membership else ""


def subject_teachers(class_group: ClassGroup) -> dict[int, str]:
    """Subject id → the names of the class's teachers of that subject (co-teachers joined by
    ", ", in name order), from the class's teaching assignments."""
    names: dict[int, list[str]] = {}
    for assignment in TeachingAssignment.objects.filter(class_group=class_group).select_related(
        "teacher"
    ):
        names.setdefault(assignment.subject_id, []).append(assignment.teacher.display_name)
    return {subject: ", ".join(sorted(people)) for subject, people in names.items()}


def _frame(data: StudentYearResults) -> Snapshot:
    class_group = data.class_group
    school = data.year.school
    teacher = class_group.homeroom_teacher
    return {
        "format": FORMAT,
        "kind": "primary" if data.primary else "secondary",
        "student": _identity(data.student),
        "school": {
            "name": school.name,
            "code": school.code,
            "department_code": school.department_code,
            "province": school.province,
            "address": school.address,
            "place_name": school.place_name,
            "principal_name": principal_name(school),
        },
        "year": {"name": data.year.name, "start_year": data.year.start_year},
        "class": {
            "name": class_group.name,
            "grade": class_group.grade,
            "homeroom_teacher": str(teacher) if teacher else "",
        },
    }


# --- secondary (Circular 22) -------------------------------------------------------------------


def _promotion(results: SecondaryStudentResults, grade: int) -> dict[str, Any] | None:
    decision = results.promotion
    if decision is None:
        return None
    if decision.promoted:
        if results.completes_programme:
            level_name = "trung học cơ sở" if grade == 9 else "trung học phổ thông"
            wording = f"Hoàn thành chương trình {level_name}"
        else:
            wording = "Được lên lớp"
    else:
        assert decision.next_step is not None  # not promoted: there is a next step
        wording = NEXT_STEP_WORDING[decision.next_step]
    return {
        "promoted": decision.promoted,
        "next_step": str(decision.next_step) if decision.next_step else None,
        "reasons": [str(r) for r in decision.reasons],
        "display": wording,
    }


def _secondary(data: StudentYearResults, snapshot: Snapshot) -> None:
    results = data.results
    assert isinstance(results, SecondaryStudentResults)
    teachers = subject_teachers(data.class_group)
    snapshot["subjects"] = [
        {
            "code": row.subject.code,
            "name": row.subject.name,
            "assessment": row.subject.assessment,
            "term1": subject_result(row.term1.value, exempt=row.term1.exempt),
            "term2": subject_result(row.term2.value, exempt=row.term2.exempt),
            "year": subject_result(row.value, exempt=row.exempt),
            "reassessment": result(row.reassessment),
            "comment": data.comments.subject(row.subject.pk),
            "teacher_name": teachers.get(row.subject.pk, ""),
        }
        for row in results.subjects
    ]
    conduct = results.conduct
    snapshot["learning"] = {
        "term1": learning(results.learning_term1),
        "term2": learning(results.learning_term2),
        "year": learning(results.learning_year),
        "reassessed": learning(results.learning_reassessed),
    }
    snapshot["conduct"] = {
        "term1": level(conduct.term1),
        "term2": level(conduct.term2),
        "year": level(conduct.year),
        "reassessed": level(conduct.reassessed),
    }
    absences = results.absences
    snapshot["absences"] = {
        "term1_excused": absences.term1_excused,
        "term1_unexcused": absences.term1_unexcused,
        "term2_excused": absences.term2_excused,
        "term2_unexcused": absences.term2_unexcused,
        "total": absences.total,
    }
    snapshot["summer_reassessment"] = sorted(results.summer_reassessment)
    snapshot["award"] = award("secondary", results)
    snapshot["promotion"] = _promotion(results, data.class_group.grade)
    snapshot["completes_programme"] = results.completes_programme
    snapshot["homeroom_comment"] = data.comments.homeroom


# --- primary (Circular 27) ---------------------------------------------------------------------


def _qualities(names: tuple, term1: dict, year: dict) -> list[dict[str, Any]]:
    return [
        {
            "code": code,
            "name": str(name),
            "term1": level(term1.get(code)),
            "year": level(year.get(code)),
        }
        for code, name in names
    ]


def _primary(data: StudentYearResults, snapshot: Snapshot) -> None:
    results = data.results
    assert isinstance(results, PrimaryStudentResults)
    teachers = subject_teachers(data.class_group)
    snapshot["subjects"] = [
        {
            "code": row.subject.code,
            "name": row.subject.name,
            "assessment": row.subject.assessment,
            "has_test": row.subject.periodic_test,
            "term1_level": level(row.term1_level),
            "year_level": level(row.year_level),
            "term1_test": result(row.test(1)),
            "year_test": result(row.test("year")),
            "comment": data.comments.subject(row.subject.pk),
            "teacher_name": teachers.get(row.subject.pk, ""),
        }
        for row in results.subjects
    ]
    snapshot["qualities"] = _qualities(
        QUALITY_NAMES, results.qualities_term1, results.qualities_year
    )
    snapshot["competencies"] = _qualities(
        COMPETENCY_NAMES, results.competencies_term1, results.competencies_year
    )
    snapshot["result"] = level(results.year_result)
    snapshot["award"] = award("primary", results)
    completed = results.completed_grade
    grade = data.class_group.grade
    if completed is None:
        wording = ""
    elif completed:
        wording = (
            "Hoàn thành chương trình tiểu học"
            if results.completes_programme
            else f"Hoàn thành chương trình lớp {grade}"
        )
    else:
        wording = f"Chưa hoàn thành chương trình lớp {grade}"
    snapshot["completion"] = {"completed": completed, "display": wording}
    snapshot["completes_programme"] = results.completes_programme
    snapshot["homeroom_comment"] = data.comments.homeroom


#: Circular 27 names of the qualities and competencies, in gradebook.columns order.
QUALITY_NAMES = tuple(
    zip(
        (code for code, _ in QUALITIES),
        ("Yêu nước", "Nhân ái", "Chăm chỉ", "Trung thực", "Trách nhiệm"),
        strict=True,
    )
)
COMPETENCY_NAMES = tuple(
    zip(
        (code for code, _ in COMPETENCIES),
        (
            "Tự chủ và tự học",
            "Giao tiếp và hợp tác",
            "Giải quyết vấn đề và sáng tạo",
            "Ngôn ngữ",
            "Tính toán",
            "Khoa học",
            "Công nghệ",
            "Tin học",
            "Thẩm mĩ",
            "Thể chất",
        ),
        strict=True,
    )
)


# --- public API --------------------------------------------------------------------------------


def build_snapshot(student: Student, year: SchoolYear) -> Snapshot:
    """Everything printed on ``student``'s học bạ page for ``year`` (see the module docstring).

    Raises :class:`gradebook.results.NotEnrolled` when the student has no class that year.
    """
    return snapshot_of_results(student_year_results(student, year))


def snapshot_of_results(data: StudentYearResults) -> Snapshot:
    """The snapshot of year results already computed: confirming a transcript checks the
    results for blockers first and snapshots the same ones, computing them once."""
    snapshot = _frame(data)
    if data.primary:
        _primary(data, snapshot)
    else:
        _secondary(data, snapshot)
    return _nfc(snapshot)


#: Keys added to the snapshot after version 1 of the format, with their defaults.
ADDED_DEFAULTS: dict[str, dict[str, Any]] = {
    "school": {"place_name": "", "principal_name": ""},
    "student": {"registration_number": "", "admission_date": None, "admission_date_display": ""},
}
SUBJECT_DEFAULTS: dict[str, Any] = {"teacher_name": ""}


def printable(snapshot: Snapshot) -> Snapshot:
    """``snapshot`` with every key added since it was stored set to its default, and a word
    for every code: what the templates and the XML may rely on. The snapshot itself (what was
    hashed) is not changed."""
    copy = {**snapshot}
    for part, defaults in ADDED_DEFAULTS.items():
        copy[part] = {**defaults, **snapshot.get(part, {})}
    copy["subjects"] = [_printable_subject(row) for row in snapshot.get("subjects", [])]
    return copy


def _printable_subject(row: dict[str, Any]) -> dict[str, Any]:
    out = {**SUBJECT_DEFAULTS, **row}
    for key, shown in row.items():
        if isinstance(shown, dict) and "value" in shown and "name" not in shown:
            code = shown["value"]
            if not code.replace(".", "", 1).isdigit():  # a code, not a score
                out[key] = {**shown, "name": word(code)}
    return out


def _nfc(value: Any) -> Any:
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, dict):
        return {_nfc(k): _nfc(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_nfc(v) for v in value]
    return value


def canonical_json(snapshot: Snapshot) -> bytes:
    """The byte-exact form that is hashed: sorted keys, no whitespace, UTF-8, NFC strings."""
    return json.dumps(
        _nfc(snapshot), ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
    ).encode("utf-8")


def snapshot_digest(snapshot: Snapshot) -> str:
    """SHA-256 (hex) of :func:`canonical_json`."""
    return hashlib.sha256(canonical_json(snapshot)).hexdigest()
