"""The transcript state machine: draft → ready → signed by the homeroom teacher → signed by the
principal → final; return, reopen, and marks frozen outside draft."""

import threading

import pytest
from django.db import DatabaseError, connection
from django.utils import translation

from accounts.models import Role
from gradebook.columns import subject_columns
from gradebook.services import Locked, save_mark
from tests.conftest import make_user
from tests.gradebook.marks import all_scored, homeroom_marks, year_of
from transcripts.models import SignerRole, State, TranscriptSignature
from transcripts.workflow import (
    TRANSITIONS,
    TranscriptRefused,
    confirm_ready,
    record_signature,
    reopen,
    return_to_homeroom,
    transcript_for,
)


@pytest.fixture
def pupil(class_a):
    return class_a.enrollments.order_by("roll_number").first().student


@pytest.fixture
def transcript(class_a, pupil):
    year_of(class_a, pupil, all_scored("8"))
    homeroom_marks(pupil, conduct=("T", "T"))
    return transcript_for(student=pupil, class_group=class_a)


def to_final(transcript, homeroom, principal):
    confirm_ready(actor=homeroom, transcript=transcript)
    for role, actor in [("homeroom", homeroom), ("principal", principal), ("seal", principal)]:
        record_signature(actor=actor, transcript=transcript, role=role)
    transcript.refresh_from_db()


def test_full_path_to_final(transcript, homeroom, principal):
    to_final(transcript, homeroom, principal)
    assert transcript.state == State.FINAL
    version = transcript.current_version
    assert version.number == 1 and len(version.snapshot_sha256) == 64
    assert sorted(version.signatures.values_list("role", flat=True)) == sorted(SignerRole.values)
    assert list(transcript.events.values_list("to_state", flat=True)) == [
        State.READY, State.SIGNED_HOMEROOM, State.SIGNED_PRINCIPAL, State.FINAL
    ]  # fmt: skip


def test_incomplete_results_block_confirmation(class_a, homeroom):
    second = class_a.enrollments.order_by("roll_number")[1].student
    with translation.override("en"), pytest.raises(TranscriptRefused, match="Not ready: Ngữ văn"):
        confirm_ready(
            actor=homeroom, transcript=transcript_for(student=second, class_group=class_a)
        )


@pytest.mark.parametrize("action", [a for a in TRANSITIONS if a != "confirm"])
def test_every_step_is_refused_from_draft_except_confirm(transcript, principal, action):
    step = {
        "return": lambda: return_to_homeroom(actor=principal, transcript=transcript, comment="x"),
        "reopen": lambda: reopen(actor=principal, transcript=transcript, reason="x"),
    }.get(action, lambda: record_signature(actor=principal, transcript=transcript, role=action))
    with pytest.raises(TranscriptRefused):
        step()


def test_signing_out_of_order_is_refused(transcript, homeroom, principal):
    confirm_ready(actor=homeroom, transcript=transcript)
    with pytest.raises(TranscriptRefused):
        record_signature(actor=principal, transcript=transcript, role="principal")
    with pytest.raises(TranscriptRefused):
        record_signature(actor=principal, transcript=transcript, role="seal")


def test_only_the_right_people_sign(transcript, homeroom, principal, teacher, school_a):
    with pytest.raises(TranscriptRefused):
        confirm_ready(actor=teacher, transcript=transcript)
    confirm_ready(actor=homeroom, transcript=transcript)
    with pytest.raises(TranscriptRefused):
        record_signature(actor=principal, transcript=transcript, role="homeroom")
    record_signature(actor=homeroom, transcript=transcript, role="homeroom")
    with pytest.raises(TranscriptRefused):
        record_signature(actor=teacher, transcript=transcript, role="principal")
    vice = make_user("vice", school_a, Role.VICE_PRINCIPAL)
    record_signature(actor=vice, transcript=transcript, role="principal")
    with pytest.raises(TranscriptRefused):  # the seal is the principal's
        record_signature(actor=vice, transcript=transcript, role="seal")


def test_marks_are_frozen_once_confirmed_and_free_again_after_return(
    class_a, transcript, homeroom, principal, teacher, pupil
):
    entry = class_a.year.curriculum.get(grade=class_a.grade, subject__code="TOAN")
    column = subject_columns(entry, 2)[0]

    def change(text):
        return save_mark(actor=teacher, class_group=class_a, student=pupil, column=column,
                         text=text, base_version=None)  # fmt: skip

    confirm_ready(actor=homeroom, transcript=transcript)
    with pytest.raises(Locked):
        change("9")
    return_to_homeroom(actor=principal, transcript=transcript, comment="Kiểm tra điểm Toán")
    assert change("9").changed


def test_reopen_supersedes_the_final_version_and_the_next_is_new(
    class_a, transcript, homeroom, principal, teacher, pupil
):
    to_final(transcript, homeroom, principal)
    with pytest.raises(TranscriptRefused):
        reopen(actor=principal, transcript=transcript, reason="  ")
    reopen(actor=principal, transcript=transcript, reason="Phúc khảo môn Toán")
    first = transcript.versions.get(number=1)
    assert first.superseded_at and first.superseded_reason == "Phúc khảo môn Toán"
    entry = class_a.year.curriculum.get(grade=class_a.grade, subject__code="TOAN")
    final_mark = subject_columns(entry, 2)[-2]  # CK of HK II
    save_mark(actor=teacher, class_group=class_a, student=pupil, column=final_mark, text="9",
              base_version=None)  # fmt: skip
    second = confirm_ready(actor=homeroom, transcript=transcript)
    assert second.number == 2 and second.snapshot_sha256 != first.snapshot_sha256
    assert transcript.current_version == second


@pytest.mark.django_db(transaction=True)
def test_concurrent_signing_produces_one_signature(transcript, homeroom):
    confirm_ready(actor=homeroom, transcript=transcript)
    outcomes: list[str] = []

    def sign() -> None:
        try:
            record_signature(actor=homeroom, transcript=transcript, role="homeroom")
            outcomes.append("signed")
        except TranscriptRefused:
            outcomes.append("refused")  # waited for the row lock, then saw the new state
        except DatabaseError:
            outcomes.append("blocked")  # SQLite's in-memory test database locks whole tables
        finally:
            connection.close()

    threads = [threading.Thread(target=sign) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("signed") == 1 and len(outcomes) == 2
    assert TranscriptSignature.objects.count() == 1
