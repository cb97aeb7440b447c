"""Corrections of locked cells: the teacher who writes the cell files a request, the leadership
approves (applied through save_mark, recorded as a correction in the ledger) or rejects it,
and the class's homeroom teacher sees it."""

import dataclasses

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from accounts.models import Role
from gradebook import corrections, locks
from gradebook.columns import homeroom_columns
from gradebook.ledger import verify_chain
from gradebook.models import CorrectionRequest, MarkEvent
from gradebook.services import GradebookError, InvalidValue, save_mark
from schools.models import TeachingAssignment
from tests.conftest import make_user

pytestmark = pytest.mark.usefixtures("english")  # tests/conftest.py


@pytest.fixture
def tx1(maths_columns):
    return maths_columns["1:tx:1"]


@pytest.fixture
def locked(class_a, teacher, principal, student, tx1):
    """TX1 of the first student holds 5, then the principal locks class 6A1's term I."""
    save_mark(actor=teacher, class_group=class_a, student=student, column=tx1, text="5",
              base_version=None)  # fmt: skip
    return locks.lock(actor=principal, school=class_a.year.school, year=class_a.year,
                      class_group=class_a, term=1, reason="Khóa sổ HK I")  # fmt: skip


def ask(actor, class_a, student, column, text="7.5", reason="Nhập nhầm"):
    return corrections.request_correction(actor=actor, class_group=class_a, student=student,
                                          column=column, new_text=text, reason=reason)  # fmt: skip


def cell_url(class_a, student, column, subject=None):
    subject_pk = "" if subject is None else subject
    query = f"class={class_a.pk}&subject={subject_pk}&student={student.pk}&column={column.key}"
    return reverse("gradebook:correction_new", args=["SCHOOLA"]) + "?" + query


def decide_url(correction):
    return reverse("gradebook:correction_decide", args=["SCHOOLA", correction.pk])


def test_full_flow_request_approve_ledger_and_homeroom_list(
    client, class_a, teacher, homeroom, principal, student, tx1, locked
):
    client.force_login(teacher)
    url = cell_url(class_a, student, tx1, subject=tx1.subject_id)
    assert 'id="current-value"><strong>5<' in client.get(url).content.decode()
    response = client.post(url, {"new_value": "7,5", "reason": "Cộng nhầm điểm"})
    assert response.status_code == 302
    correction = CorrectionRequest.objects.get()
    assert (correction.old_value, correction.new_value, correction.status) == (
        "5",
        "7.5",
        "pending",
    )

    client.force_login(principal)
    client.post(decide_url(correction), {"decision": "approve", "note": "Đồng ý"})
    correction.refresh_from_db()
    assert (correction.status, correction.decided_by) == ("approved", principal)
    assert correction.mark.value == "7.5"
    event = MarkEvent.objects.latest("seq")
    assert correction.event == event
    assert (event.source, event.old_value, event.new_value, event.actor) == (
        "correction", "5", "7.5", principal
    )  # fmt: skip
    assert event.reason == "Cộng nhầm điểm (approved by principal)"
    assert list(verify_chain(class_a.year.school)) == []

    client.force_login(homeroom)
    page = client.get(reverse("gradebook:corrections", args=["SCHOOLA"])).content.decode()
    assert f'id="correction-{correction.pk}"' in page
    assert student.full_name in page and "7.5" in page and "Approved and applied" in page


def test_the_cell_stays_locked_after_an_approved_correction(
    class_a, teacher, principal, student, tx1, locked
):
    correction = ask(teacher, class_a, student, tx1)
    corrections.approve_correction(actor=principal, request=correction)
    with pytest.raises(GradebookError, match="Locked"):
        save_mark(actor=teacher, class_group=class_a, student=student, column=tx1, text="9",
                  base_version=None)  # fmt: skip


def test_reject_needs_a_note_and_leaves_the_cell_alone(
    client, class_a, teacher, principal, student, tx1, locked
):
    correction = ask(teacher, class_a, student, tx1)
    client.force_login(principal)
    response = client.post(decide_url(correction), {"decision": "reject"}, follow=True)
    assert "Say why the correction is rejected." in response.content.decode()
    correction.refresh_from_db()
    assert correction.status == "pending"
    client.post(decide_url(correction), {"decision": "reject", "note": "Điểm đúng rồi"})
    correction.refresh_from_db()
    assert (correction.status, correction.decision_note) == ("rejected", "Điểm đúng rồi")
    assert correction.mark.value == "5"
    assert not MarkEvent.objects.filter(source="correction").exists()


def test_approval_is_refused_when_the_cell_changed_meanwhile(
    class_a, teacher, principal, student, tx1, locked
):
    correction = ask(teacher, class_a, student, tx1)
    locks.unlock(actor=principal, lock=locked, reason="Mở lại")
    save_mark(actor=teacher, class_group=class_a, student=student, column=tx1, text="6",
              base_version=None)  # fmt: skip
    with pytest.raises(GradebookError, match="changed after this request was filed"):
        corrections.approve_correction(actor=principal, request=correction)
    correction.refresh_from_db()
    assert (correction.status, correction.mark.value) == ("pending", "6")


def test_a_decided_request_cannot_be_decided_again(
    class_a, teacher, principal, student, tx1, locked
):
    correction = ask(teacher, class_a, student, tx1)
    corrections.reject_correction(actor=principal, request=correction, note="Không")
    with pytest.raises(GradebookError, match="already been decided"):
        corrections.approve_correction(actor=principal, request=correction)


def test_request_on_an_unlocked_cell_is_refused(class_a, teacher, student, tx1):
    with pytest.raises(GradebookError, match="not locked: change it directly"):
        ask(teacher, class_a, student, tx1)
    assert not CorrectionRequest.objects.exists()


@pytest.mark.parametrize("text", ["11", "7.25", "abc"])
def test_invalid_new_value_is_refused_with_the_grids_message(
    class_a, teacher, student, maths_columns, locked, text
):
    open_twin = dataclasses.replace(maths_columns["1:tx:1"], term=2)  # same cell type, term II
    with pytest.raises(InvalidValue) as grid:
        save_mark(actor=teacher, class_group=class_a, student=student, column=open_twin,
                  text=text, base_version=None)  # fmt: skip
    with pytest.raises(InvalidValue) as correction:
        ask(teacher, class_a, student, maths_columns["1:tx:1"], text=text)
    assert correction.value.message == grid.value.message
    assert not CorrectionRequest.objects.exists()


def test_reason_is_required(class_a, teacher, student, tx1, locked):
    with pytest.raises(GradebookError, match="reason"):
        ask(teacher, class_a, student, tx1, reason="  ")


def test_one_pending_request_per_cell(class_a, teacher, student, tx1, locked):
    first = ask(teacher, class_a, student, tx1)
    with pytest.raises(corrections.CorrectionPending) as refused:
        ask(teacher, class_a, student, tx1, text="8")
    assert refused.value.request == first
    assert "still waiting for a decision" in refused.value.message


def test_same_value_is_not_a_correction(class_a, teacher, student, tx1, locked):
    with pytest.raises(GradebookError, match="already holds this value"):
        ask(teacher, class_a, student, tx1, text="5.0")


def test_an_empty_locked_cell_can_be_filled_and_a_mark_cleared(
    class_a, teacher, principal, student, maths_columns, locked
):
    fill = ask(teacher, class_a, student, maths_columns["1:gk:"], text="8")
    clear = ask(teacher, class_a, student, maths_columns["1:tx:1"], text="")
    for correction in (fill, clear):
        corrections.approve_correction(actor=principal, request=correction)
    fill.mark.refresh_from_db()
    clear.mark.refresh_from_db()
    assert (fill.mark.value, clear.mark.value) == ("8", "")


def test_teacher_of_another_subject_may_not_ask(class_a, homeroom, student, tx1, locked):
    with pytest.raises(PermissionDenied):
        ask(homeroom, class_a, student, tx1)


def test_homeroom_teacher_corrects_a_locked_homeroom_cell(
    class_a, teacher, homeroom, principal, student, locked
):
    conduct = homeroom_columns(primary=False, term=1)[0]
    with pytest.raises(PermissionDenied):
        ask(teacher, class_a, student, conduct, text="T")
    correction = ask(homeroom, class_a, student, conduct, text="t")
    corrections.approve_correction(actor=principal, request=correction)
    correction.mark.refresh_from_db()
    assert (correction.mark.value, correction.mark.subject) == ("T", None)


@pytest.mark.parametrize("persona", ["teacher", "homeroom", "admin"])
def test_only_the_leadership_decides(request, class_a, teacher, student, tx1, locked, persona):
    correction = ask(teacher, class_a, student, tx1)
    with pytest.raises(PermissionDenied):
        corrections.approve_correction(actor=request.getfixturevalue(persona), request=correction)
    with pytest.raises(PermissionDenied):
        corrections.reject_correction(actor=request.getfixturevalue(persona), request=correction,
                                      note="no")  # fmt: skip


def test_nobody_approves_their_own_request(class_a, school_a, principal, student, tx1, locked):
    teaching_principal = make_user("hieutruong2", school_a, Role.PRINCIPAL, Role.TEACHER)
    TeachingAssignment.objects.create(
        teacher=teaching_principal, class_group=class_a, subject_id=tx1.subject_id
    )
    correction = ask(teaching_principal, class_a, student, tx1)
    with pytest.raises(GradebookError, match="another member of the leadership"):
        corrections.approve_correction(actor=teaching_principal, request=correction)
    assert corrections.approve_correction(actor=principal, request=correction).status == "approved"


# Pages --------------------------------------------------------------------------------------------

CELL_PAGE = {"teacher": 200, "homeroom": 403, "principal": 403, "admin": 403, "outsider": 404}


@pytest.mark.parametrize("persona", ["anonymous", *CELL_PAGE])
def test_correction_form_permissions(client, world, tx1, student, locked, persona):
    if persona != "anonymous":
        client.force_login(world["users"][persona])
    response = client.get(cell_url(world["class_a"], student, tx1, subject=tx1.subject_id))
    if persona == "anonymous":
        assert response.status_code == 302 and "/accounts/login/" in response.url
    else:
        assert response.status_code == CELL_PAGE[persona]


def test_outsider_gets_404_for_school_a_cell_in_their_own_school(
    client, outsider, class_a, student, tx1, locked
):
    client.force_login(outsider)
    url = cell_url(class_a, student, tx1, subject=tx1.subject_id).replace("SCHOOLA", "SCHOOLB")
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    "query",
    ["column=1:tx:9", "column=3:tx:1", "column=garbage", "student=999999", "class=abc"],
)
def test_a_cell_the_gradebook_does_not_have_is_404(client, teacher, class_a, student, tx1, query):
    client.force_login(teacher)
    key = query.split("=")[0]
    url = cell_url(class_a, student, tx1, subject=tx1.subject_id)
    parts = [p for p in url.split("?")[1].split("&") if not p.startswith(key + "=")]
    assert client.get(url.split("?")[0] + "?" + "&".join([*parts, query])).status_code == 404


def test_form_on_an_unlocked_cell_says_to_edit_directly(client, teacher, class_a, student, tx1):
    client.force_login(teacher)
    page = client.get(cell_url(class_a, student, tx1, subject=tx1.subject_id)).content.decode()
    assert "not locked: change it directly" in page and 'id="correction-form"' not in page


def test_invalid_value_comes_back_on_the_form(client, teacher, class_a, student, tx1, locked):
    client.force_login(teacher)
    url = cell_url(class_a, student, tx1, subject=tx1.subject_id)
    response = client.post(url, {"new_value": "12", "reason": "x"})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert not CorrectionRequest.objects.exists()


def test_lists_are_filtered_by_role(
    client, school_a, class_a, teacher, principal, student, tx1, locked
):
    correction = ask(teacher, class_a, student, tx1)
    stranger = make_user("gv2", school_a, Role.TEACHER)
    url = reverse("gradebook:corrections", args=["SCHOOLA"])
    marker = f'id="correction-{correction.pk}"'
    for user, sees in ((teacher, True), (principal, True), (stranger, False)):
        client.force_login(user)
        assert (marker in client.get(url).content.decode()) is sees, user
    client.force_login(teacher)
    assert 'name="decision"' not in client.get(url).content.decode()


def test_pending_requests_come_first(
    client, class_a, teacher, principal, student, maths_columns, locked
):
    older = ask(teacher, class_a, student, maths_columns["1:tx:1"])
    corrections.reject_correction(actor=principal, request=older, note="Không")
    newer = ask(teacher, class_a, student, maths_columns["1:gk:"], text="9")
    decided = ask(teacher, class_a, student, maths_columns["1:ck:"], text="9")
    corrections.reject_correction(actor=principal, request=decided, note="Không")
    client.force_login(principal)
    page = client.get(reverse("gradebook:corrections", args=["SCHOOLA"]))
    assert [c.pk for c in page.context["page"]] == [newer.pk, decided.pk, older.pk]


def test_dashboard_links_to_locks_and_corrections(
    client, class_a, teacher, principal, student, tx1, locked
):
    ask(teacher, class_a, student, tx1)
    client.force_login(principal)
    page = client.get(reverse("schools:dashboard", args=["SCHOOLA"])).content.decode()
    assert reverse("gradebook:locks", args=["SCHOOLA"]) in page
    assert "Corrections (1 pending)" in page
    client.force_login(teacher)
    page = client.get(reverse("schools:dashboard", args=["SCHOOLA"])).content.decode()
    assert "My correction requests" in page
    assert reverse("gradebook:locks", args=["SCHOOLA"]) not in page
