"""What the transcripts tell the homeroom teacher (accounts/notifications.py): a transcript
returned or reopened, which they confirm again. Only the homeroom teacher (decision): the
principal's comment is addressed to them, and a subject teacher is told only if a book of theirs
is unlocked for a change (gradebook/notices.py)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import NotificationKind, User
from accounts.notifications import TextOf, notify
from transcripts.models import Transcript


def transcript_moved(transcript: Transcript, *, actor: User, reopened: bool, comment: str) -> None:
    class_group = transcript.class_group
    if class_group.homeroom_teacher_id is None:
        return
    notify(
        recipients=[class_group.homeroom_teacher_id],
        kind=NotificationKind.TRANSCRIPT_REOPENED
        if reopened
        else NotificationKind.TRANSCRIPT_RETURNED,
        school_id=transcript.school_id,
        url=reverse("hocba:detail", kwargs={"code": transcript.school.code, "pk": transcript.pk}),
        params={
            "student": transcript.student.full_name,
            "class": class_group.name,
            "by": actor.display_name,
            "comment": comment,
        },
        actor=actor,
    )


def transcript_returned_text(params: dict[str, Any]) -> str:
    return _("%(by)s returned the transcript of %(student)s (%(class)s): %(comment)s") % params


def transcript_reopened_text(params: dict[str, Any]) -> str:
    return (
        _("%(by)s reopened the final transcript of %(student)s (%(class)s): %(comment)s") % params
    )


TEXTS: dict[str, TextOf] = {
    NotificationKind.TRANSCRIPT_RETURNED: transcript_returned_text,
    NotificationKind.TRANSCRIPT_REOPENED: transcript_reopened_text,
}
