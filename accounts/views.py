"""A person's notifications: the list, opening one (marks it read and follows its link, which
goes through the access-checked view of its object) and marking them all read. Theirs only:
another person's notification is a 404."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST, require_safe

from accounts.http import AuthenticatedRequest
from accounts.models import Notification

SHOWN = 100


@require_safe
def notifications(request: AuthenticatedRequest) -> HttpResponse:
    """The person's latest notifications, unread ones marked (one query)."""
    latest = list(
        Notification.objects.filter(recipient=request.user).select_related("school")[:SHOWN]
    )
    return render(request, "accounts/notifications.html", {"notifications": latest})


@require_POST
def notification_open(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    notification = get_object_or_404(Notification, pk=pk, recipient=request.user)
    if notification.read_at is None:
        Notification.objects.filter(pk=pk).update(read_at=timezone.now())
    url = notification.url
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts=None) and url.startswith("/"):
        return redirect(url)
    return redirect("notifications")


@require_POST
def notifications_read_all(request: AuthenticatedRequest) -> HttpResponse:
    Notification.objects.filter(recipient=request.user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    return redirect("notifications")
