"""Archive time-stamps: keep sealed transcripts verifiable after their time-stamps' certificates
expire (PAdES B-LTA, ``manage.py extend_signatures`` and the daily task).

A document time-stamp proves that the file, with the revocation data in its DSS, existed at
its time — for as long as the time-stamping authority's certificate can itself be validated.
Before that certificate expires, :func:`extend_version` adds the validation data of the last
time-stamp and a fresh document time-stamp over everything (pyHanko's archival time-stamp
chain). The result is written as a **new** stored file; the version points at it, and the
digest of the file it replaces is kept (:class:`~transcripts.models.StoredFileDigest`) so that
copies handed out before — downloads, packages exported before — are still recognised by the
verification page. Each version is extended in its own transaction under its row lock, and only
when due, so a re-run (or a second worker) skips what was done.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import logging

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from transcripts.models import SignerRole, StoredFileDigest, TranscriptVersion
from transcripts.pipeline import delete_files, read_file
from transcripts.signing import ltv
from transcripts.signing.signers import SigningError

logger = logging.getLogger(__name__)

#: A version whose newest document time-stamp is younger than this is never extended again,
#: even when the authority's own certificate is close to expiry: re-running the same day (or
#: daily, until the authority renews its certificate) adds nothing.
RECENT = datetime.timedelta(days=30)
ARCHIVE_STAGE = "4-archive"


@dataclasses.dataclass
class ExtensionResult:
    extended: list[int] = dataclasses.field(default_factory=list)
    skipped: int = 0
    failed: list[tuple[int, str]] = dataclasses.field(default_factory=list)


def is_due(pdf: bytes, *, now: datetime.datetime, margin: datetime.timedelta) -> bool:
    """Whether ``pdf`` needs a fresh archive time-stamp: its newest time-stamp's certificate
    expires within ``margin``, or it has no time-stamp at all (signed at B-B); not when its
    newest document time-stamp is :data:`RECENT`."""
    last = ltv.last_timestamp(pdf)
    if last is None:
        return True
    if last.is_document_timestamp and now - last.at < RECENT:
        return False
    return last.certificate_expires - now <= margin


def sealed_versions():
    """Every sealed version (current or superseded: both stay verifiable) with a stored PDF."""
    return (
        TranscriptVersion.objects.filter(signatures__role=SignerRole.SEAL)
        .exclude(pdf_file="")
        .order_by("pk")
    )


def extend_version(
    *,
    version_id: int,
    margin: datetime.timedelta,
    timestamp_url: str,
    now: datetime.datetime | None = None,
    session: ltv.LtvSession | None = None,
) -> bool:
    """Add an archive time-stamp to the version's PDF if it is due (:func:`is_due`); True when
    it was extended. ``now`` (default: now) is also the moment the validation data is
    validated for (tests travelling in time). ``session``: the run's (one time-stamping
    client, the revocation data fetched once for the versions it serves); by default one for
    this version. Raises SigningError when the authority or the revocation data cannot be had; the
    version is then unchanged."""
    moment = now
    now = now or timezone.now()
    saved: list[str] = []
    try:
        with transaction.atomic():
            version = (
                TranscriptVersion.objects.select_for_update(of=("self",))
                .select_related("transcript")
                .get(pk=version_id)
            )
            pdf = read_file(version.pdf_file)
            if not is_due(pdf, now=now, margin=margin):
                return False
            if session is None:
                with archive_session(timestamp_url, moment=moment) as own:
                    extended = ltv.extend_archive_timestamp(pdf, ltv=own)
            else:
                extended = ltv.extend_archive_timestamp(pdf, ltv=session)
            StoredFileDigest.objects.get_or_create(
                version=version,
                kind="pdf",
                sha256=version.pdf_sha256,
                defaults={"file_name": version.pdf_file.name},
            )
            version.pdf_file.save(f"hocba-{ARCHIVE_STAGE}.pdf", ContentFile(extended), save=False)
            saved.append(version.pdf_file.name)
            version.pdf_sha256 = hashlib.sha256(extended).hexdigest()
            version.save(update_fields=["pdf_file", "pdf_sha256"])
    except BaseException:
        delete_files(saved)
        raise
    return True


def archive_session(
    timestamp_url: str, *, moment: datetime.datetime | None = None
) -> ltv.LtvSession:
    """A session adding archive time-stamps from ``timestamp_url`` (whatever the PAdES level of
    new signatures), validating as of ``moment`` (default: the time of each operation)."""
    settings = dataclasses.replace(
        ltv.LtvSettings.from_settings(),
        level=ltv.PadesLevel.B_LTA,
        timestamp_url=timestamp_url,
    )
    return ltv.LtvSession(settings, moment=moment)


def extend_due_versions(
    *,
    margin_days: int = 365,
    batch: int = 100,
    limit: int | None = None,
    now: datetime.datetime | None = None,
) -> ExtensionResult:
    """Extend every sealed version that is due, ``batch`` versions read at a time, each in its
    own transaction; at most ``limit`` extended in this run. A failure is listed and does not
    stop the others. Needs ``SIGNING_TSA_URL``."""
    url = getattr(settings, "SIGNING_TSA_URL", "")
    if not url:
        raise SigningError("SIGNING_TSA_URL is not set: archive time-stamps need a TSA")
    margin = datetime.timedelta(days=margin_days)
    result = ExtensionResult()
    after = 0
    # One session for the run: the authorities' revocation data fetched once, not per version.
    with archive_session(url, moment=now) as session:
        while limit is None or len(result.extended) < limit:
            ids = list(sealed_versions().filter(pk__gt=after).values_list("pk", flat=True)[:batch])
            if not ids:
                break
            after = ids[-1]
            for version_id in ids:
                if limit is not None and len(result.extended) >= limit:
                    break
                try:
                    done = extend_version(
                        version_id=version_id,
                        margin=margin,
                        timestamp_url=url,
                        now=now,
                        session=session,
                    )
                except Exception as exc:  # one broken file or an unreachable TSA is reported
                    logger.exception("archive time-stamp failed for version %s", version_id)
                    result.failed.append((version_id, str(exc)))
                    continue
                if done:
                    result.extended.append(version_id)
                else:
                    result.skipped += 1
    return result
