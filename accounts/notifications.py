"""In-app notifications and their e-mails (docs/gradebook.md, Notifications).

The layers above raise them — the gradebook (a decided correction, a lock or unlock, a lock date
that approaches: gradebook/notices.py) and the transcripts (a transcript returned or reopened:
transcripts/notices.py) — through `notify`, inside the transaction of the action they report.
Each also writes the text of its kinds and hands it here when its app loads (`TEXTS`), as the
gradebook hands schools its regular-marks rule: accounts, the lowest layer, imports neither.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from functools import partial
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import (
    NOTIFICATION_TEXTS,
    Notification,
    NotificationKind,
    NotificationText,
    User,
)

logger = logging.getLogger(__name__)

TextOf = NotificationText
#: kind → its text (the model's registry, `Notification.text` reads it); the apps above fill it.
TEXTS = NOTIFICATION_TEXTS


def notify(
    *,
    recipients: Iterable[User | int],
    kind: str,
    school_id: int | None,
    url: str = "",
    params: Mapping[str, Any] | None = None,
    per_recipient: Mapping[int, Mapping[str, Any]] | None = None,
    key: str = "",
    actor: User | None = None,
) -> list[Notification]:
    """One notification for each recipient, in one INSERT, in the caller's transaction; a mail
    to each who has an address once it commits (nothing if it rolls back).

    Only active people who are active staff of `school_id` are notified (another school's
    never), never the `actor` (no one is told what they did themselves), each once; with a
    `key`, never twice for the same key. `per_recipient` adds parameters for one person."""
    ids = {getattr(r, "pk", r) for r in recipients} - {getattr(actor, "pk", None)}
    if not ids:
        return []
    people = User.objects.filter(pk__in=ids, is_active=True)
    if school_id is not None:
        people = people.filter(
            pk__in=User.objects.filter(
                memberships__school_id=school_id, memberships__is_active=True
            ).values("pk")
        )
    if key:
        people = people.exclude(pk__in=Notification.objects.filter(key=key).values("recipient"))
    common = dict(params or {})
    extra = per_recipient or {}
    rows = [
        Notification(
            recipient=person,
            school_id=school_id,
            kind=kind,
            params={**common, **extra.get(person.pk, {})},
            url=url,
            key=key,
        )
        for person in people.only("pk", "email", "language").order_by("pk")
    ]
    created = Notification.objects.bulk_create(rows, ignore_conflicts=bool(key))
    if any(row.recipient.email for row in rows):
        transaction.on_commit(partial(send_mails, rows))
    return created


def send_mails(notifications: list[Notification]) -> None:
    """One mail per notification whose recipient has an address, in the recipient's language,
    over one connection. A failure is logged and never reaches the action that notified."""
    try:
        messages = [mail_of(n) for n in notifications if n.recipient.email]
        with get_connection() as connection:
            for message in messages:
                message.connection = connection
                try:
                    message.send()
                except Exception:
                    logger.exception("Notification mail to %s not sent", message.to[0])
    except Exception:
        logger.exception("Notification mails not sent")


def mail_of(notification: Notification) -> EmailMessage:
    person = notification.recipient
    with translation.override(person.language or settings.LANGUAGE_CODE):
        text = notification.text
        subject = _("Gradebook & Transcripts: %(kind)s") % {
            "kind": NotificationKind(notification.kind).label
        }
        lines = [text]
        if notification.url:
            lines += ["", settings.SITE_URL.rstrip("/") + notification.url]
        lines += [
            "",
            _("All your notifications: %(url)s")
            % {"url": settings.SITE_URL.rstrip("/") + reverse("notifications")},
        ]
    return EmailMessage(subject=subject, body="\n".join(lines), to=[person.email])
