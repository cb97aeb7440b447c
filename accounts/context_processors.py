from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest

from accounts.models import Notification


def notifications(request: HttpRequest) -> dict[str, Callable[[], int]]:
    """The bell's unread count: one COUNT on a partial index (the unread rows of one person),
    run only by a page that shows the bell (htmx fragments and JSON never do)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def unread() -> int:
        return Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True).count()

    return {"unread_notifications": unread}
