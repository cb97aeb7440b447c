"""The Content-Security-Policy header, on every response (docs/security.md, "Content Security
Policy").

Scripts and stylesheets come only from the site's own static files: no template has an inline
script, an event-handler attribute or a <style> element (tests/config/test_csp.py checks the
templates). Style *attributes* are allowed (`style-src-attr 'unsafe-inline'`): pages use them
for widths and progress bars, and a style attribute cannot run code. Images may be data: URIs
(Bootstrap's form controls draw their icons with them; the transcript's QR code is one). The
page may fetch from the site and from the signing companion on the signer's own computer
(SIGNING_COMPANION_URL). No page may be framed by another site: a response sent with
`X-Frame-Options: SAMEORIGIN` (the transcript preview) may be framed by the site itself.

The policy is read from the settings on every response (a few string joins): a test or a
deployment that changes SIGNING_COMPANION_URL gets it in the header at once.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

HEADER = "Content-Security-Policy"


def companion_origin(url: str) -> str | None:
    """The scheme, host and port of the signing companion's address, or None without one."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def policy(*, framed_by_self: bool = False) -> str:
    connect = ["'self'"]
    origin = companion_origin(getattr(settings, "SIGNING_COMPANION_URL", "") or "")
    if origin:
        connect.append(origin)
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "connect-src": connect,
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'self'" if framed_by_self else "'none'"],
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


class ContentSecurityPolicyMiddleware:
    """Sets the header unless a view set its own. Listed right after SecurityMiddleware, so it
    sees every response the inner middleware and views make, error pages included, and the
    X-Frame-Options a view chose (XFrameOptionsMiddleware runs inside it)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if HEADER not in response.headers:
            framed = response.headers.get("X-Frame-Options", "").upper() == "SAMEORIGIN"
            response.headers[HEADER] = policy(framed_by_self=framed)
        return response
