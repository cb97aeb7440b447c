"""The error pages: Django's handlers for 400, 403 and 404 and the CSRF failure view
(settings.CSRF_FAILURE_VIEW), rendering the product's own templates inside its layout, with a
link back to the page the person came from when it is one of ours. The 500 page is Django's
default handler with templates/500.html, which is static (no request, no query, no URL to
reverse), so that it renders whatever broke."""

from __future__ import annotations

from django.core.exceptions import DisallowedHost
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseForbidden,
    HttpResponseNotFound,
)
from django.template import loader
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import requires_csrf_token


def back_url(request: HttpRequest) -> str:
    """The page the person came from (the Referer), if it is a page of this site other than
    this one; otherwise "" (the error page then offers the home page only)."""
    referer = request.headers.get("referer", "")
    try:
        host = request.get_host()
    except DisallowedHost:
        return ""
    if not referer or referer == request.build_absolute_uri():
        return ""
    if not url_has_allowed_host_and_scheme(
        referer, allowed_hosts={host}, require_https=request.is_secure()
    ):
        return ""
    return referer


def _render(request: HttpRequest, template: str, context: dict[str, object]) -> str:
    return loader.get_template(template).render({"back_url": back_url(request), **context}, request)


@requires_csrf_token
def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    return HttpResponseBadRequest(_render(request, "400.html", {}))


@requires_csrf_token
def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The exception's message, when it has one, says why (the access layer's messages are
    written for the person: "Only the principal or a vice principal may do this.")."""
    reason = str(exception) if exception.args else ""
    return HttpResponseForbidden(_render(request, "403.html", {"reason": reason}))


@requires_csrf_token
def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The exception's message is not shown: it may name a model or a lookup."""
    return HttpResponseNotFound(_render(request, "404.html", {}))


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent with a missing or stale security token (a page left open across a log-in
    or a log-out, cookies blocked): say what to do. Django's reason is for the log only."""
    return HttpResponseForbidden(_render(request, "403_csrf.html", {}))
