"""Checks of the configuration that settings.py cannot express as a default.

``SITE_URL`` is printed into every rendered transcript (the verification link and its QR code),
and a signed transcript never changes: a wrong value there is wrong for the student's lifetime.
So with DEBUG off the settings refuse to load without a usable one (:func:`site_url_problem`),
and ``check --deploy`` warns about one that is not HTTPS (:func:`check_site_url`). Importing
this module registers that check (config/settings.py imports it).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` (a URL's host or an ALLOWED_HOSTS entry) names this machine only:
    localhost, a name under .localhost, a loopback or unspecified address."""
    host = host.strip().strip("[]").rstrip(".").lower()
    if host.startswith("."):  # an ALLOWED_HOSTS pattern for a domain and its subdomains
        host = host[1:]
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def site_url_problem(url: str | None, *, debug: bool, allowed_hosts: Iterable[str]) -> str | None:
    """Why ``url`` cannot be SITE_URL, or None. Any value must be an absolute http(s) URL with
    a host and nothing after the path. With DEBUG off it must be set and must not point at this
    machine, unless the site itself answers only on this machine (every ALLOWED_HOSTS entry a
    loopback name, as `make serve-prod`): a trial nobody else can reach."""
    if url is None or not url.strip():
        if debug:
            return None
        return (
            "SITE_URL is required when DEBUG is off: it is printed into every signed transcript "
            "as its verification link, which can never be changed afterwards. Set it to the "
            "site's public address, e.g. SITE_URL=https://hocba.example.edu.vn"
        )
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return (
            f"SITE_URL={url!r} must be an absolute http(s) URL, e.g. https://hocba.example.edu.vn"
        )
    if parts.query or parts.fragment:
        return f"SITE_URL={url!r} must not have a query or fragment"
    hosts = list(allowed_hosts)
    if not debug and is_loopback_host(parts.hostname):
        if hosts and all(is_loopback_host(host) for host in hosts):
            return None
        return (
            f"SITE_URL={url!r} points at this machine, but it is printed into every signed "
            "transcript as its verification link, which nobody else can open. Set it to the "
            "site's public address, e.g. SITE_URL=https://hocba.example.edu.vn (a trial on "
            "this machine only must also keep ALLOWED_HOSTS to loopback names, as make "
            "serve-prod does)"
        )
    return None


@checks.register(checks.Tags.security, deploy=True)
def check_site_url(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """The verification link must be HTTPS: the page behind it is what proves a printed
    transcript genuine, and the link cannot be changed once printed."""
    if urlsplit(settings.SITE_URL).scheme == "https":
        return []
    return [
        checks.Warning(
            f"SITE_URL={settings.SITE_URL!r} is not an https:// address.",
            hint="Signed transcripts print SITE_URL as their verification link for good: "
            "serve the site over HTTPS and set SITE_URL=https://…",
            id="sodiem.W001",
        )
    ]


#: Caches each process keeps to itself (or none at all).
PER_PROCESS_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}


@checks.register(checks.Tags.security, checks.Tags.caches, deploy=True)
def check_shared_cache(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """The login and verification rate limits and the single-use two-factor codes live in the
    default cache: with a cache per process (or none), each web process counts on its own, so
    several processes multiply every limit and a used code passes again on another process."""
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if backend not in PER_PROCESS_CACHES:
        return []
    return [
        checks.Warning(
            f"The cache ({backend.rsplit('.', 1)[-1]}) is kept by each process: the rate limits "
            "of the login and the verification page and the single-use two-factor codes hold "
            "only within one process.",
            hint="With more than one web process (gunicorn workers) set CACHE_BACKEND=redis "
            "(and CACHE_REDIS_URL); docs/deployment.md.",
            id="sodiem.W002",
        )
    ]


@checks.register(checks.Tags.security, deploy=True)
def check_ledger_checkpoint_key(
    app_configs: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """The ledger's checkpoints are signed with a key kept outside the database
    (gradebook/checkpoints.py). Left at its default, it is a file created in the application's
    own directory: replaced with the code, different on every application machine, and in the
    same backups as everything else."""
    path = Path(settings.LEDGER_CHECKPOINT_KEY_FILE).resolve()
    if not path.is_relative_to(Path(settings.BASE_DIR).resolve()):
        return []
    return [
        checks.Warning(
            f"The ledger checkpoint key ({path}) is inside the application's directory.",
            hint="Set LEDGER_CHECKPOINT_KEY_FILE to a file the operators keep outside the "
            "database and the code, the same on every application machine; "
            "docs/deployment.md.",
            id="sodiem.W003",
        )
    ]
