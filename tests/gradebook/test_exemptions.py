"""Exemptions (miễn học, issue 16 item 2): asked for by the homeroom teacher or the admin,
approved by the principal; an approved one makes the subject's cells exempt in the grid (shown,
never asked for, refused on save), in completeness, in the results (the few-subjects rule) and
in the transcript ("Miễn")."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from gradebook import locks
from gradebook.completeness import book_status
from gradebook.exemptions import decide_exemption, request_exemption, withdraw_exemption
from gradebook.models import YEAR_TERM, Exemption, ExemptionState, GradebookSettings, Lock, Mark
from gradebook.results import class_results
from gradebook.rules.codes import Level
from gradebook.services import GradebookError
from tests.gradebook.marks import all_scored, homeroom_marks, subject_marks, year_of
from transcripts.snapshot import build_snapshot
from transcripts.xml import snapshot_to_xml, validate_xml

pytestmark = pytest.mark.usefixtures("english")  # tests/conftest.py: messages asserted in English

EXEMPT = ("TOAN", "NV", "NN1")  # three scored subjects exempted: five left


@pytest.fixture
def first(class_a):
    return class_a.enrollments.order_by("roll_number").first().student


def grant(class_a, student, code, term, by) -> Exemption:
    subject = class_a.year.school.subjects.get(code=code)
    return Exemption.objects.create(
        school=class_a.year.school, year=class_a.year, class_group=class_a, student=student,
        subject=subject, term=term, reason="Khuyết tật vận động", document="QĐ 12/2025",
        requested_by=by, decided_by=by, state=ExemptionState.APPROVED,
    )  # fmt: skip


def exempt_year(class_a, student, by, scores="9"):
    """Every subject at `scores` except the EXEMPT ones, exempted for the whole year."""
    year_of(class_a, student, {c: v for c, v in all_scored(scores).items() if c not in EXEMPT})
    homeroom_marks(student)
    for code in EXEMPT:
        grant(class_a, student, code, YEAR_TERM, by)


# --- results --------------------------------------------------------------------------------


def test_exempt_subjects_are_left_out_and_five_subjects_at_9_make_t(class_a, first, principal):
    exempt_year(class_a, first, principal)
    result = class_results(class_a).for_student(first.pk)
    maths = result.subject("TOAN")
    assert (maths.exempt, maths.value, maths.term1.exempt, maths.term1.value) == (
        True, None, True, None,
    )  # fmt: skip
    assert result.learning_year is not None
    assert result.learning_year.level is Level.GOOD
    assert result.learning_term1.level is Level.GOOD


def test_the_literal_six_policy_never_gives_t_with_five_subjects(class_a, first, principal):
    exempt_year(class_a, first, principal)
    GradebookSettings.objects.create(school=class_a.year.school, few_scored_subjects="literal_six")
    result = class_results(class_a).for_student(first.pk)
    assert result.learning_year is not None
    assert result.learning_year.level is not Level.GOOD


def test_a_requested_exemption_changes_nothing(class_a, first, principal):
    exempt_year(class_a, first, principal)
    Exemption.objects.update(state=ExemptionState.REQUESTED)
    result = class_results(class_a).for_student(first.pk)
    assert result.subject("TOAN").exempt is False
    assert result.learning_year is None  # maths is missing, not exempt


def test_a_term_exemption_takes_the_year_result_from_the_other_term(class_a, first, principal):
    Mark.objects.bulk_create(subject_marks(class_a, first, "TOAN", 2, "7"))
    grant(class_a, first, "TOAN", 1, principal)
    maths = class_results(class_a).for_student(first.pk).subject("TOAN")
    assert (maths.term1.exempt, maths.term2.exempt, maths.exempt) == (True, False, False)
    assert maths.value == Decimal("7.0")
    assert "HK I" in maths.explain().text("en")


# --- completeness ---------------------------------------------------------------------------


def test_completeness_does_not_ask_for_exempt_cells(class_a, first, principal):
    entry = class_a.year.curriculum.get(grade=6, subject__code="TOAN")
    before = book_status(class_a, entry, 1)
    grant(class_a, first, "TOAN", 1, principal)
    after = book_status(class_a, entry, 1)
    assert first.pk in {student.pk for student, _ in before.missing}
    assert first.pk not in {student.pk for student, _ in after.missing}
    assert after.required == before.required - len(before.missing) // 3
    assert book_status(class_a, entry, 2).required == before.required  # term II still due


# --- the grid -------------------------------------------------------------------------------


def grid_url(class_a, code="TOAN", term=1):
    subject = class_a.year.school.subjects.get(code=code)
    return reverse("gradebook:grid", args=["SCHOOLA", class_a.pk, subject.pk, term])


def test_the_grid_shows_exempt_cells_read_only(client, english, class_a, first, teacher):
    grant(class_a, first, "TOAN", YEAR_TERM, teacher)
    client.force_login(teacher)
    page = client.get(grid_url(class_a)).content.decode()
    row = page.split(f'data-student="{first.pk}"')[1].split("</tr>")[0]
    assert 'data-exempt="1"' in row
    assert 'data-editable="1"' not in row
    assert "Exempt" in row
    second = class_a.enrollments.order_by("roll_number")[1].student
    other = page.split(f'data-student="{second.pk}"')[1].split("</tr>")[0]
    assert 'data-editable="1"' in other


def test_a_save_of_an_exempt_cell_is_refused_with_a_reason(
    client, english, class_a, first, teacher
):
    grant(class_a, first, "TOAN", 1, teacher)
    maths = class_a.year.school.subjects.get(code="TOAN")
    url = reverse("gradebook:cell_save", args=["SCHOOLA", class_a.pk, maths.pk])
    client.force_login(teacher)
    body = {"student": first.pk, "column": "1:tx:1", "value": "8", "version": 0}
    response = client.post(url, json.dumps(body), content_type="application/json")
    assert response.status_code == 422
    assert "exempt from this subject" in response.json()["error"]
    assert not Mark.objects.filter(student=first, subject=maths).exclude(value="").exists()
    body["column"] = "2:tx:1"  # term II is not exempt
    assert client.post(url, json.dumps(body), content_type="application/json").status_code == 200


# --- the transcript -------------------------------------------------------------------------


def test_the_transcript_prints_mien_and_stays_valid(class_a, first, principal):
    exempt_year(class_a, first, principal)
    snapshot = build_snapshot(first, class_a.year)
    maths = next(s for s in snapshot["subjects"] if s["code"] == "TOAN")
    exempt = {"value": "M", "display": "Miễn", "name": "Miễn"}
    assert (maths["term1"], maths["term2"], maths["year"]) == (exempt, exempt, exempt)
    assert snapshot["learning"]["year"]["value"] == "T"
    validate_xml(snapshot_to_xml(snapshot, transcript_id="HB-1", version=1))


# --- asking, deciding, locks ----------------------------------------------------------------


def ask(class_a, student, actor, term=1, code="GDTC"):
    return request_exemption(
        actor=actor, class_group=class_a, student=student,
        subject=class_a.year.school.subjects.get(code=code), term=term,
        reason="Chấn thương", document="Giấy khám sức khoẻ số 45",
    )  # fmt: skip


def test_the_homeroom_teacher_asks_and_the_principal_approves(class_a, first, homeroom, principal):
    exemption = ask(class_a, first, homeroom)
    assert exemption.state == ExemptionState.REQUESTED
    decide_exemption(actor=principal, exemption=exemption, approve=True)
    exemption.refresh_from_db()
    assert (exemption.state, exemption.decided_by) == (ExemptionState.APPROVED, principal)
    with pytest.raises(GradebookError, match="already been decided"):
        decide_exemption(actor=principal, exemption=exemption, approve=False)


def test_a_subject_teacher_may_not_ask_and_the_admin_may_not_approve(
    class_a, first, teacher, admin
):
    with pytest.raises(PermissionDenied):
        ask(class_a, first, teacher)
    exemption = ask(class_a, first, admin)
    with pytest.raises(PermissionDenied):
        decide_exemption(actor=admin, exemption=exemption, approve=True)


def test_a_second_request_for_the_same_subject_is_refused(class_a, first, homeroom):
    ask(class_a, first, homeroom, term=YEAR_TERM)
    with pytest.raises(GradebookError, match="already asked for"):
        ask(class_a, first, homeroom, term=2)


def test_an_exemption_after_the_lock_points_to_the_correction_path(
    english, class_a, first, homeroom, principal
):
    maths = class_a.year.school.subjects.get(code="TOAN")
    waiting = ask(class_a, first, homeroom, term=1, code="TOAN")
    locks.lock(actor=principal, school=class_a.year.school, year=class_a.year,
               class_group=class_a, subject=maths, term=1, reason="Hết hạn")  # fmt: skip
    with pytest.raises(GradebookError, match="correction"):
        ask(class_a, first, homeroom, term=YEAR_TERM, code="TOAN")
    with pytest.raises(GradebookError, match="correction"):
        decide_exemption(actor=principal, exemption=waiting, approve=True)
    decide_exemption(actor=principal, exemption=waiting, approve=False)  # rejecting is fine


def test_the_screens_request_list_and_decide(client, english, class_a, first, homeroom, principal):
    client.force_login(homeroom)
    new = reverse("gradebook:exemption_new", args=["SCHOOLA", class_a.pk])
    assert client.get(new).status_code == 200
    gdtc = class_a.year.school.subjects.get(code="GDTC")
    data = {"student": first.pk, "subject": gdtc.pk, "term": "0", "reason": "Chấn thương",
            "document": "QĐ 7"}  # fmt: skip
    assert client.post(new, data).status_code == 302
    exemption = Exemption.objects.get()
    assert (exemption.term, exemption.requested_by) == (YEAR_TERM, homeroom)
    refused = client.post(new, {**data, "reason": " "})
    assert "Give the reason" in refused.content.decode()
    client.force_login(principal)
    listing = client.get(reverse("gradebook:exemptions", args=["SCHOOLA"])).content.decode()
    assert "QĐ 7" in listing and first.full_name in listing
    decide = reverse("gradebook:exemption_decide", args=["SCHOOLA", exemption.pk])
    assert client.post(decide, {"decision": "approve"}).status_code == 302
    exemption.refresh_from_db()
    assert exemption.state == ExemptionState.APPROVED


def test_the_class_page_links_the_request_for_the_homeroom_teacher_only(
    client, class_a, homeroom, principal
):
    page = reverse("schools:class_detail", args=["SCHOOLA", class_a.pk])
    client.force_login(homeroom)
    assert 'id="exemption-new"' in client.get(page).content.decode()
    client.force_login(principal)
    content = client.get(page).content.decode()
    assert 'id="exemption-new"' not in content
    assert reverse("gradebook:exemptions", args=["SCHOOLA"]) in content


# --- partial exemptions, withdrawing, the class summary --------------------------------------


def test_a_partial_exemption_keeps_the_marks_due(class_a, first, homeroom, principal):
    with pytest.raises(GradebookError, match="Say which part"):
        request_exemption(
            actor=homeroom, class_group=class_a, student=first,
            subject=class_a.year.school.subjects.get(code="TOAN"), term=1,
            reason="Chấn thương tay", document="Giấy khám 3", scope="partial", part=" ",
        )  # fmt: skip
    partial = request_exemption(
        actor=homeroom, class_group=class_a, student=first,
        subject=class_a.year.school.subjects.get(code="TOAN"), term=1,
        reason="Chấn thương tay", document="Giấy khám 3", scope="partial", part="Vẽ hình",
    )  # fmt: skip
    decide_exemption(actor=principal, exemption=partial, approve=True)
    entry = class_a.year.curriculum.get(grade=6, subject__code="TOAN")
    assert first.pk in {student.pk for student, _ in book_status(class_a, entry, 1).missing}
    assert class_results(class_a).for_student(first.pk).subject("TOAN").term1.exempt is False


def test_the_principal_withdraws_an_approved_exemption_until_the_lock(
    class_a, first, homeroom, principal
):
    maths = class_a.year.school.subjects.get(code="TOAN")
    exemption = ask(class_a, first, homeroom, term=1, code="TOAN")
    with pytest.raises(GradebookError, match="Only an approved"):
        withdraw_exemption(actor=principal, exemption=exemption, reason="Đã khỏi")
    decide_exemption(actor=principal, exemption=exemption, approve=True)
    assert class_results(class_a).for_student(first.pk).subject("TOAN").term1.exempt
    with pytest.raises(PermissionDenied):
        withdraw_exemption(actor=homeroom, exemption=exemption, reason="Đã khỏi")
    with pytest.raises(GradebookError, match="reason"):
        withdraw_exemption(actor=principal, exemption=exemption, reason="  ")
    locks.lock(actor=principal, school=class_a.year.school, year=class_a.year,
               class_group=class_a, subject=maths, term=1, reason="Hết hạn")  # fmt: skip
    with pytest.raises(GradebookError, match="correction"):
        withdraw_exemption(actor=principal, exemption=exemption, reason="Đã khỏi")
    Lock.objects.all().delete()
    withdraw_exemption(actor=principal, exemption=exemption, reason="Đã khỏi")
    exemption.refresh_from_db()
    assert (exemption.state, exemption.withdrawn_reason) == (ExemptionState.WITHDRAWN, "Đã khỏi")
    assert class_results(class_a).for_student(first.pk).subject("TOAN").term1.exempt is False
    ask(class_a, first, homeroom, term=1, code="TOAN")  # a withdrawn one blocks no new request


def test_the_withdraw_button_and_the_partial_request_on_the_screens(
    client, english, class_a, first, homeroom, principal
):
    gdtc = class_a.year.school.subjects.get(code="GDTC")
    client.force_login(homeroom)
    new = reverse("gradebook:exemption_new", args=["SCHOOLA", class_a.pk])
    data = {"student": first.pk, "subject": gdtc.pk, "term": "1", "reason": "Hen suyễn",
            "document": "GK 9", "scope": "partial", "part": ""}  # fmt: skip
    assert "Say which part" in client.post(new, data).content.decode()
    assert client.post(new, {**data, "part": "Chạy bền"}).status_code == 302
    exemption = Exemption.objects.get()
    assert (exemption.scope, exemption.part) == ("partial", "Chạy bền")
    client.force_login(principal)
    decide = reverse("gradebook:exemption_decide", args=["SCHOOLA", exemption.pk])
    client.post(decide, {"decision": "approve"})
    listing = client.get(reverse("gradebook:exemptions", args=["SCHOOLA"])).content.decode()
    assert "Part: Chạy bền" in listing and 'value="withdraw"' in listing
    client.post(decide, {"decision": "withdraw", "reason": "Hết điều trị"})
    exemption.refresh_from_db()
    assert exemption.state == ExemptionState.WITHDRAWN
    listing = client.get(reverse("gradebook:exemptions", args=["SCHOOLA"])).content.decode()
    assert "Hết điều trị" in listing and 'value="withdraw"' not in listing


def test_the_class_summary_shows_exempt_not_missing(class_a, first, principal):
    from gradebook.summary import secondary_subject_cell

    exempt_year(class_a, first, principal)
    result = class_results(class_a).for_student(first.pk)
    for period in (1, 2, "year"):
        cell = secondary_subject_cell(result, "TOAN", period)
        assert (cell.text, cell.css) == ("Exempt", "r-exempt")
        assert "exempt" in cell.title
    assert secondary_subject_cell(result, "KHTN", "year").css != "r-exempt"


def test_the_grid_marks_a_partly_exempt_student_and_keeps_the_cells_open(
    client, english, class_a, first, teacher
):
    exemption = grant(class_a, first, "TOAN", 1, teacher)
    Exemption.objects.filter(pk=exemption.pk).update(scope="partial", part="Vẽ hình")
    client.force_login(teacher)
    page = client.get(grid_url(class_a)).content.decode()
    row = page.split(f'data-student="{first.pk}"')[1].split("</tr>")[0]
    assert "data-partial-exemption" in row and "Vẽ hình" in row
    assert 'data-editable="1"' in row and 'data-exempt="1"' not in row
    assert "data-partial-exemption" not in page.split(f'data-student="{first.pk}"')[0]
    term_2 = client.get(grid_url(class_a, term=2)).content.decode()
    assert "data-partial-exemption" not in term_2  # the exemption is of term I
