"""What the gradebook tells its teachers (accounts/notifications.py; docs/gradebook.md,
Notifications): a decided correction to the teacher who asked for it, a lock or unlock to the
teachers of the books it covers — each teacher once, however many books — and a lock date that
approaches to the teachers whose books are still incomplete (`remind_lock_dates`, run daily by
`manage.py notify_deadlines`, once per lock date and teacher). The texts of these kinds are here
too, handed to accounts when the app loads (gradebook/apps.py).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import NotificationKind, User
from accounts.notifications import TextOf, notify
from gradebook.completeness import homeroom_book_statuses, school_book_statuses
from gradebook.messages import cell_words, scope_words
from gradebook.models import (
    SCHOOL_TIMEZONE,
    CorrectionRequest,
    CorrectionStatus,
    Lock,
    LockKind,
)
from schools.models import ClassGroup, TeachingAssignment

# Corrections ----------------------------------------------------------------------------------


def correction_decided(request: CorrectionRequest, *, actor: User) -> None:
    """Tell the teacher who asked for a correction that it was approved or rejected."""
    mark = request.mark
    approved = request.status == CorrectionStatus.APPROVED
    notify(
        recipients=[request.requested_by_id],
        kind=NotificationKind.CORRECTION_APPROVED
        if approved
        else NotificationKind.CORRECTION_REJECTED,
        school_id=request.school_id,
        url=reverse("gradebook:corrections", kwargs={"code": request.class_group.year.school.code}),
        params={
            "kind": mark.kind,
            "slot": mark.slot,
            "student": mark.student.full_name,
            "class": request.class_group.name,
            "subject": mark.subject.name if mark.subject is not None else "",
            "value": request.new_value,
            "by": actor.display_name,
            "note": request.decision_note,
        },
        actor=actor,
    )


def _cell(params: dict[str, Any]) -> dict[str, str]:
    book = ", ".join(part for part in (params["class"], params["subject"]) if part)
    return {
        "cell": cell_words(params["kind"], params["slot"]),
        "student": params["student"],
        "book": book,
        "value": params["value"],
        "by": params["by"],
        "note": params["note"],
    }


def correction_approved_text(params: dict[str, Any]) -> str:
    return _(
        "Your correction of %(cell)s of %(student)s (%(book)s) to “%(value)s” was approved by "
        "%(by)s."
    ) % _cell(params)


def correction_rejected_text(params: dict[str, Any]) -> str:
    return _(
        "Your correction of %(cell)s of %(student)s (%(book)s) to “%(value)s” was rejected by "
        "%(by)s: %(note)s"
    ) % _cell(params)


# Locks ----------------------------------------------------------------------------------------


def teachers_of(lock: Lock) -> set[int]:
    """Who writes a book the lock covers (`CellScope`'s rule): the teachers assigned to its
    classes and subjects, and for a lock without subject the homeroom teachers of its classes.
    One query whatever the number of books."""
    assignments = TeachingAssignment.objects.filter(class_group__year_id=lock.year_id)
    homerooms = ClassGroup.objects.filter(year_id=lock.year_id, homeroom_teacher__isnull=False)
    if lock.class_group_id is not None:
        assignments = assignments.filter(class_group_id=lock.class_group_id)
        homerooms = homerooms.filter(pk=lock.class_group_id)
    teachers = assignments.order_by().values_list("teacher_id", flat=True)
    if lock.subject_id is not None:
        return set(teachers.filter(subject_id=lock.subject_id))
    return set(teachers.union(homerooms.order_by().values_list("homeroom_teacher_id", flat=True)))


def lock_url(lock: Lock, code: str) -> str:
    """One book's grid for a lock of one class × subject × term; the teacher's home (which
    lists their books) otherwise."""
    if lock.class_group_id and lock.subject_id and lock.term in (1, 2):
        kwargs = {"class_pk": lock.class_group_id, "subject_pk": lock.subject_id}
        return reverse("gradebook:grid", kwargs={"code": code, **kwargs, "term": lock.term})
    return reverse("schools:dashboard", kwargs={"code": code})


def lock_params(lock: Lock) -> dict[str, Any]:
    class_group, subject = lock.class_group, lock.subject
    return {
        "class": class_group.name if class_group is not None else "",
        "subject": subject.name if subject is not None else "",
        "term": lock.term,
    }


def lock_changed(lock: Lock, *, actor: User, unlocked: bool) -> None:
    """Tell the teachers of the books a lock covers that it was set (now or from a date) or
    released. A teacher's own submission tells no one; its release tells its teacher."""
    if lock.kind == LockKind.SUBMITTED and not unlocked:
        return
    starts = timezone.localtime(lock.starts_at, SCHOOL_TIMEZONE)
    later = not unlocked and lock.starts_at > timezone.now()
    params = {
        **lock_params(lock),
        "by": actor.display_name,
        "reason": lock.release_reason if unlocked else lock.reason,
        "from": starts.date().isoformat() if later else "",
    }
    notify(
        recipients=teachers_of(lock),
        kind=NotificationKind.BOOK_UNLOCKED if unlocked else NotificationKind.BOOK_LOCKED,
        school_id=lock.school_id,
        url=lock_url(lock, lock.school.code),
        params=params,
        actor=actor,
    )


def _scope(params: dict[str, Any]) -> str:
    return scope_words(params["class"] or None, params["subject"] or None, params["term"])


def _date(iso: str) -> str:
    day = parse_date(iso)
    return date_format(day, "SHORT_DATE_FORMAT") if day else iso


def book_locked_text(params: dict[str, Any]) -> str:
    words = {"by": params["by"], "scope": _scope(params), "reason": params["reason"]}
    if params.get("from"):
        return _("%(by)s set the gradebooks %(scope)s to lock from %(date)s: %(reason)s") % {
            **words,
            "date": _date(params["from"]),
        }
    return _("%(by)s locked the gradebooks %(scope)s: %(reason)s") % words


def book_unlocked_text(params: dict[str, Any]) -> str:
    words = {"by": params["by"], "scope": _scope(params), "reason": params["reason"]}
    return _("%(by)s unlocked the gradebooks %(scope)s: %(reason)s") % words


# Lock dates that approach ---------------------------------------------------------------------


def incomplete_books(lock: Lock) -> dict[int, list[int]]:
    """teacher id → the missing cells of each of their open, incomplete books that the lock
    covers. Submitted books are complete; books already locked cannot be filled any more."""
    classes = list(ClassGroup.objects.filter(year_id=lock.year_id))
    if lock.class_group_id is not None:
        classes = [c for c in classes if c.pk == lock.class_group_id]
    teachers: dict[tuple[int, int], list[int]] = defaultdict(list)
    for class_id, subject_id, teacher_id in TeachingAssignment.objects.filter(
        class_group__in=classes
    ).values_list("class_group_id", "subject_id", "teacher_id"):
        teachers[class_id, subject_id].append(teacher_id)
    found: dict[int, list[int]] = defaultdict(list)
    for term in (1, 2) if lock.term is None else (lock.term,) if lock.term in (1, 2) else ():
        for class_id, statuses in school_book_statuses(lock.year, classes, term).items():
            for status in statuses:
                subject_id = status.entry.subject_id
                if lock.subject_id not in (None, subject_id):
                    continue
                if status.state == "open" and status.missing:
                    for teacher_id in teachers[class_id, subject_id]:
                        found[teacher_id].append(len(status.missing))
        if lock.subject_id is None:
            homeroom = homeroom_book_statuses(lock.year, classes, term)
            for c in classes:
                state, missing = homeroom[c.pk]
                if c.homeroom_teacher_id and state == "open" and missing:
                    found[c.homeroom_teacher_id].append(missing)
    return found


def remind_lock_dates(*, days: int, now: datetime.datetime | None = None) -> int:
    """Remind the teachers of incomplete books of every lock that takes effect within `days`,
    once per lock and teacher (safe to run again). The number of reminders made."""
    now = now or timezone.now()
    soon = Lock.objects.filter(
        kind=LockKind.LOCKED,
        released_at__isnull=True,
        starts_at__gt=now,
        starts_at__lte=now + datetime.timedelta(days=days),
    ).select_related("school", "year", "class_group", "subject")
    made = 0
    for lock in soon:
        books = incomplete_books(lock)
        if not books:
            continue
        day = timezone.localtime(lock.starts_at, SCHOOL_TIMEZONE).date()
        made += len(
            notify(
                recipients=books,
                kind=NotificationKind.LOCK_DATE_SOON,
                school_id=lock.school_id,
                url=reverse("schools:dashboard", kwargs={"code": lock.school.code}),
                params={**lock_params(lock), "date": day.isoformat()},
                per_recipient={
                    teacher: {"books": len(missing), "missing": sum(missing)}
                    for teacher, missing in books.items()
                },
                key=f"lock-date:{lock.pk}",
            )
        )
    return made


def lock_date_soon_text(params: dict[str, Any]) -> str:
    books = ngettext(
        "%(books)d of your gradebooks is incomplete",
        "%(books)d of your gradebooks are incomplete",
        params["books"],
    ) % {"books": params["books"]}
    missing = ngettext(
        "%(missing)d mark missing", "%(missing)d marks missing", params["missing"]
    ) % {"missing": params["missing"]}
    return _("The gradebooks %(scope)s lock on %(date)s: %(books)s (%(missing)s).") % {
        "scope": _scope(params),
        "date": _date(params["date"]),
        "books": books,
        "missing": missing,
    }


TEXTS: dict[str, TextOf] = {
    NotificationKind.CORRECTION_APPROVED: correction_approved_text,
    NotificationKind.CORRECTION_REJECTED: correction_rejected_text,
    NotificationKind.BOOK_LOCKED: book_locked_text,
    NotificationKind.BOOK_UNLOCKED: book_unlocked_text,
    NotificationKind.LOCK_DATE_SOON: lock_date_soon_text,
}
