"""What the signing modules share, below all of them: certificates in asn1crypto's form (what
pyHanko takes), the revocation mode, pyHanko validation contexts, and running pyHanko's
coroutines to completion from synchronous code.

Nothing here imports another module of :mod:`transcripts.signing`.
"""

from __future__ import annotations

import asyncio
import datetime
import enum
from collections.abc import Awaitable, Sequence
from typing import TypeVar

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.sign._session_scope import run_and_release
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend
from pyhanko_certvalidator.fetchers.api import OwnedFetcherBackend

T = TypeVar("T")


class Revocation(enum.StrEnum):
    """``SIGNING_REVOCATION``: how signing treats revocation checks (OCSP / CRL)."""

    REQUIRE = "require"  # every certificate of the chain must be shown not revoked
    IF_AVAILABLE = "if-available"  # checked where the certificate names a responder that answers
    OFF = "off"  # never asked


def to_asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def validation_context(
    *,
    anchors: Sequence[x509.Certificate],
    extra: Sequence[x509.Certificate] = (),
    revocation: Revocation = Revocation.IF_AVAILABLE,
    timeout: int = 10,
    moment: datetime.datetime | None = None,
) -> ValidationContext:
    """A pyHanko validation context trusting ``anchors`` that fetches OCSP responses and CRLs
    (``timeout`` seconds per request) unless ``revocation`` is off. ``moment``: validate as of
    then (tests travelling in time; the responders must answer as of the same moment)."""
    fetching = revocation != Revocation.OFF
    return ValidationContext(
        trust_roots=[to_asn1(c) for c in anchors],
        other_certs=[to_asn1(c) for c in extra],
        allow_fetching=fetching,
        revocation_mode="require" if revocation == Revocation.REQUIRE else "soft-fail",
        fetcher_backend=(
            OwnedFetcherBackend(AIOHttpFetcherBackend(per_request_timeout=timeout))
            if fetching
            else None
        ),
        moment=moment,
    )


def run_coroutine(coroutine: Awaitable[T]) -> T:
    """Run ``coroutine`` to completion on a new event loop.

    Not asyncio.run: in the main thread it installs a SIGINT handler, and on Python 3.11
    taking it down again formats the repr of the finished task, result included (every
    signed PDF as a bytes literal; for a CMS, asn1crypto re-encoding the whole structure)."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


def run_validation(coroutine: Awaitable[T], *contexts: ValidationContext) -> T:
    """Run ``coroutine`` on a new event loop, then release the contexts' HTTP sessions on it."""
    return run_coroutine(run_and_release(coroutine, *contexts))
