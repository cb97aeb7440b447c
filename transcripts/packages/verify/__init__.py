"""Verify a transcript package offline: everything a province checks before accepting it.

1. The ZIP itself, from its central directory alone: readable, no absolute or ``..`` paths,
   no symbolic links, no encrypted members, no duplicates, no archive inside, no members that
   overlap, bounded declared sizes (each member, the total) and compression ratios (each
   member, the whole package).
2. ``manifest.xml`` is bounded in size and elements (a pull parser stops at the limit) and
   valid against this program's own copy of goi-hocba-v1.xsd, and
   ``manifest.p7s`` is a detached CMS signature over its exact bytes, by a certificate that
   chains to a trust anchor and belongs to the school the manifest names.
3. Every member is listed in the manifest, every listed file is present, and each one's size
   and SHA-256 match, the bytes actually inflated counted against the limits (whatever the
   headers say).
4. Every transcript XML is valid against the XSDs, carries the number of XML signatures the
   manifest states, each valid and trusted, and is the transcript the manifest says (id,
   version, student code, school, year).
5. Every PDF carries that many signatures, each intact, valid and trusted, and the XML embedded
   in it holds exactly the same ``hocBa`` data as the package's XML.

Steps 1–3 are cheap and stop at the first that fails: nothing of a transcript is read before the
seal holds and nothing is verified before every digest does. Step 4–5 (the signatures, the
costly part) stop at :attr:`Limits.max_seconds`. The public page runs them under the settings'
limits (:meth:`Limits.public`), for more than a few transcripts in a background job
(:mod:`transcripts.packages.verify_jobs`).

Nothing is fetched from the network and the database is not used: the same function backs
``manage.py verify_package``, the public verification page and the test receiving server.
Each failure is reported with the member it concerns; :attr:`PackageReport.ok` is true only
when there is none. PDF signatures go through pyHanko's AdES validation with the revocation data
the files carry (B-LT / B-LTA): a certificate revoked before signing is a failure; a signature
whose time cannot be established offline (no time-stamp, revocation data missing or stale) is
a note (:attr:`PackageReport.notes`), as is the manifest seal's time-stamp
(:attr:`PackageReport.sealed_at`).

The parts: :mod:`.limits` (the bounds, the central directory, bounded reading of members and
XML), :mod:`.seal` (the manifest and its seal), :mod:`.members` (the list of members, their
digests, the ledger checkpoint, a leaver's marks), :mod:`.transcripts` (each transcript's
XML and PDF), :mod:`.report` (:class:`PackageReport`); here, :func:`verify_package` runs them
in order.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import BinaryIO

from cryptography import x509
from django.utils.translation import gettext as _

from transcripts.packages import format as fmt
from transcripts.packages.verify.limits import (
    ARCHIVE_MAGIC,
    ARCHIVE_SUFFIXES,
    CHUNK,
    RATIO_FLOOR,
    Inflation,
    Limits,
    _structure,
    read_member,
    xml_too_large,
)
from transcripts.packages.verify.members import (
    LEDGER_CHECKPOINT_MAX_BYTES,
    _check_digest,
    _check_ledger_checkpoint,
    _check_marks,
    _listing,
)
from transcripts.packages.verify.report import PackageReport, Problem, Summary
from transcripts.packages.verify.seal import _check_seal, _manifest_bytes, _parse_manifest
from transcripts.packages.verify.transcripts import _verify_transcripts, embedded_files
from transcripts.signing.certificates import load_trust_anchors

__all__ = [
    "ARCHIVE_MAGIC",
    "ARCHIVE_SUFFIXES",
    "CHUNK",
    "LEDGER_CHECKPOINT_MAX_BYTES",
    "RATIO_FLOOR",
    "Inflation",
    "Limits",
    "PackageReport",
    "Problem",
    "Summary",
    "embedded_files",
    "read_member",
    "verify_package",
    "xml_too_large",
]


def verify_package(
    source: str | Path | BinaryIO,
    *,
    anchor_paths: Sequence[str | Path] | None = None,
    limits: Limits | None = None,
    transcripts: bool | Callable[[fmt.Manifest], bool] = True,
    progress: Callable[[int, int], object] | None = None,
) -> PackageReport:
    """Check a package (a path or a seekable binary file) against ``anchor_paths`` (PEM files;
    default ``settings.SIGNING_TRUST_ANCHORS``). ``transcripts``: whether to go on to the
    transcripts' signatures once the cheap checks pass (or a function of the manifest that
    says); ``progress(checked, total)`` is called after each transcript."""
    from django.conf import settings

    limits = limits or Limits()
    anchor_paths = list(settings.SIGNING_TRUST_ANCHORS if anchor_paths is None else anchor_paths)
    report = PackageReport()
    anchors = load_trust_anchors(anchor_paths)
    if not anchors:
        report.add("", _("No trusted certification authority is configured."))
        return report
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        report.add("", _("The file is not a ZIP package."))
        return report
    with archive:
        manifest = _screen(archive, anchors, limits, report)
        if manifest is not None and (
            transcripts(manifest) if callable(transcripts) else transcripts
        ):
            _verify_transcripts(archive, manifest, anchors, anchor_paths, limits, report, progress)
    return report


def _screen(
    archive: zipfile.ZipFile,
    anchors: Sequence[x509.Certificate],
    limits: Limits,
    report: PackageReport,
) -> fmt.Manifest | None:
    """The cheap checks, in order, each stopping the check when it fails: the central
    directory, the manifest (bounded), its seal, the list of members, every member's digest.
    The manifest once they all pass."""
    if not _structure(archive, report, limits):
        return None
    budget = Inflation(limits.max_total_bytes)
    manifest_bytes = _manifest_bytes(archive, limits, budget, report)
    manifest = _parse_manifest(manifest_bytes, limits, report) if manifest_bytes else None
    if manifest_bytes is None or manifest is None:
        return None
    signature = None
    if fmt.SIGNATURE in archive.NameToInfo:
        signature = read_member(archive, fmt.SIGNATURE, limits=limits, budget=budget,
                                report=report, limit=limits.max_signature_bytes)  # fmt: skip
    if signature is None:
        report.add(fmt.SIGNATURE, _("The package has no manifest signature."))
        return None
    _check_seal(manifest_bytes, signature, manifest, anchors, report)
    if not report.ok:
        return None
    _listing(archive, manifest, report)
    if not report.ok:
        return None
    for entry in manifest.files:
        _check_digest(archive, entry, limits, budget, report)
        if budget.spent > budget.limit:
            break
    if not report.ok:
        return None
    _check_ledger_checkpoint(archive, manifest, limits, budget, report)
    _check_marks(archive, manifest, limits, budget, report)
    if not report.ok:
        return None
    report.files_verified = True
    return manifest
