"""The costly part: every transcript's XML and PDF, their signatures, and that they are the
transcript the manifest lists, one transcript's files in memory at a time, within the time limit."""

from __future__ import annotations

import io
import re
import time
import zipfile
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

from cryptography import x509
from django.utils.translation import gettext as _
from lxml import etree

from transcripts.packages import format as fmt
from transcripts.packages.verify.limits import CHUNK, Inflation, Limits, xml_too_large
from transcripts.packages.verify.members import _read_checked
from transcripts.packages.verify.report import PackageReport, Problem
from transcripts.signing import ltv
from transcripts.verification import (
    InvalidDocument,
    parse_xml,
    pdf_signatures,
    xml_signatures,
)
from transcripts.xml import DATA_TAG, InvalidTranscriptXML, validate_xml


def _identity_problem(hocba: etree._Element, entry: fmt.TranscriptEntry, manifest) -> bool:
    ns = {"h": hocba.nsmap.get(None, "")}
    found = (
        hocba.get("maHocBa"),
        hocba.get("phienBan"),
        hocba.findtext("h:hocSinh/h:maHocSinh", namespaces=ns),
        hocba.findtext("h:truong/h:maTruong", namespaces=ns),
        hocba.findtext("h:namHoc", namespaces=ns),
    )
    expected = (
        entry.transcript_id,
        str(entry.version),
        entry.student_code,
        manifest.school_code,
        manifest.school_year,
    )
    return found != expected


def _check_xml(
    path: str,
    data: bytes,
    entry: fmt.TranscriptEntry,
    manifest: fmt.Manifest,
    anchor_paths: Sequence[str | Path],
    limits: Limits,
    report: PackageReport,
) -> etree._Element | None:
    """Check one transcript XML; return its data element when it could be read."""
    too_large = xml_too_large(
        data, max_elements=limits.max_xml_elements, max_depth=limits.max_depth
    )
    if too_large:
        report.add(path, too_large)
        return None
    try:
        validate_xml(data)
    except InvalidTranscriptXML as exc:
        report.add(path, _("Not valid against the schema: %(error)s") % {"error": exc.errors[0]})
    try:
        root = parse_xml(data)
    except InvalidDocument as exc:
        report.add(path, exc.reason)
        return None
    hocba = root.find(DATA_TAG)
    if hocba is None:
        report.add(path, _("The file holds no transcript data."))
        return None
    if _identity_problem(hocba, entry, manifest):
        report.add(path, _("This XML is not the transcript the manifest lists here."))
    try:
        signers, _signed = xml_signatures(root, anchor_paths)
    except InvalidDocument as exc:
        report.add(path, exc.reason)
    else:
        if len(signers) != entry.signatures:
            report.add(
                path,
                _("%(found)s XML signatures, the manifest says %(expected)s.")
                % {"found": len(signers), "expected": entry.signatures},
            )
    return hocba


def _decoded(stream, max_bytes: int) -> bytes:
    """A stream's data, decoded only when that is bounded (none or one FlateDecode filter
    without parameters, which is how an attachment is written); b"" when it is not."""
    raw = stream.encoded_data
    filters = stream.get("/Filter")
    if isinstance(filters, list) and len(filters) == 1:
        filters = filters[0]
    if filters is None:
        return raw if len(raw) <= max_bytes else b""
    if filters != "/FlateDecode" or "/DecodeParms" in stream:
        return b""
    data = zlib.decompressobj().decompress(raw, max_bytes + 1)
    return data if len(data) <= max_bytes else b""


def embedded_files(pdf: bytes, *, max_bytes: int | None = None) -> dict[str, bytes]:
    """The files attached to a PDF (its EmbeddedFiles name tree), by name; with ``max_bytes``,
    an attachment that would decode to more (or is encoded otherwise) is read as empty."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    found: dict[str, bytes] = {}

    def walk(node) -> None:
        node = node.get_object()
        if "/Kids" in node:
            for kid in node["/Kids"]:
                walk(kid)
        names = node.get("/Names", [])
        for i in range(0, len(names) - 1, 2):
            spec = names[i + 1].get_object()
            stream = spec["/EF"].get("/UF", spec["/EF"].get("/F")).get_object()
            found[str(names[i])] = stream.data if max_bytes is None else _decoded(stream, max_bytes)

    tree = reader.root.get("/Names", {}).get("/EmbeddedFiles")
    if tree is not None:
        walk(tree)
    return found


def _c14n(element: etree._Element) -> bytes:
    return etree.tostring(element, method="c14n")


def _check_pdf(
    path: str,
    data: bytes,
    entry: fmt.TranscriptEntry,
    hocba: etree._Element | None,
    anchors: Sequence[x509.Certificate],
    limits: Limits,
    report: PackageReport,
) -> None:
    if _pdf_decodes_to_more_than(data, limits.max_pdf_decoded_bytes):
        report.add(path, _("The PDF's streams decode to more than the allowed size."))
        return
    try:
        signers = pdf_signatures(data, anchors)
    except InvalidDocument as exc:
        report.add(path, exc.reason)
    else:
        _note_times(path, signers, report)
        if len(signers) != entry.signatures:
            report.add(
                path,
                _("%(found)s PDF signatures, the manifest says %(expected)s.")
                % {"found": len(signers), "expected": entry.signatures},
            )
    try:
        attached = embedded_files(data, max_bytes=limits.max_member_bytes)
    except Exception:  # a PDF that pdf_signatures could read but with a broken name tree
        attached = {}
    embedded = attached.get("hocba.xml")
    if embedded is None:
        report.add(path, _("The PDF carries no embedded transcript XML (hocba.xml)."))
        return
    too_large = xml_too_large(
        embedded, max_elements=limits.max_xml_elements, max_depth=limits.max_depth
    )
    try:
        embedded_data = None if too_large else parse_xml(embedded).find(DATA_TAG)
    except InvalidDocument:
        embedded_data = None
    if hocba is not None and (embedded_data is None or _c14n(embedded_data) != _c14n(hocba)):
        report.add(path, _("The XML embedded in the PDF is not this transcript's XML data."))


def _note_times(path: str, signers, report: PackageReport) -> None:
    """Count the time-stamped signatures; note those whose time cannot be established."""
    for signer in signers:
        report.pdf_signatures += 1
        report.timestamped_signatures += signer.timestamped
        if signer.time_status == ltv.INDETERMINATE:
            report.notes.append(
                Problem(
                    path,
                    _("%(name)s: %(status)s.") % {"name": signer.name, "status": signer.time_label},
                )
            )


_STREAM = re.compile(rb"(?<!end)stream\r?\n")
#: A chain of two Flate filters: the second would inflate the first's output again.
_FLATE_TWICE = re.compile(rb"/Filter\s*\[[^\]]*/FlateDecode[^\]]*/FlateDecode")
_PDF_FEED = 4096


def _pdf_decodes_to_more_than(pdf: bytes, limit: int) -> bool:
    """Whether the PDF's zlib streams (object and cross-reference streams among them, which a
    PDF reader decodes whole) inflate to more than ``limit`` bytes in all, or a stream is
    inflated twice: inflated a little at a time, nothing kept, stopping at the limit."""
    if _FLATE_TWICE.search(pdf):
        return True
    view = memoryview(pdf)
    total = 0
    for match in _STREAM.finditer(pdf):
        inflater = zlib.decompressobj()
        position = match.end()
        try:
            while position < len(pdf) and not inflater.eof:
                piece = inflater.decompress(view[position : position + _PDF_FEED], CHUNK)
                position += _PDF_FEED
                while True:
                    total += len(piece)
                    if total > limit:
                        return True
                    if not inflater.unconsumed_tail:
                        break
                    piece = inflater.decompress(inflater.unconsumed_tail, CHUNK)
        except zlib.error:
            continue  # not a zlib stream (or not a stream): pyHanko judges the file
    return False


def _verify_transcripts(
    archive: zipfile.ZipFile,
    manifest: fmt.Manifest,
    anchors: Sequence[x509.Certificate],
    anchor_paths: Sequence[str | Path],
    limits: Limits,
    report: PackageReport,
    progress: Callable[[int, int], object] | None,
) -> None:
    """The costly part: every transcript's XML and PDF and their signatures, one transcript's
    files in memory at a time, until done or ``limits.max_seconds`` have passed."""
    files = {entry.path: entry for entry in manifest.files}
    budget = Inflation(limits.max_total_bytes)
    started = time.monotonic()
    total = len(manifest.transcripts)
    for entry in manifest.transcripts:
        if limits.max_seconds is not None and time.monotonic() - started >= limits.max_seconds:
            report.add(
                "",
                _(
                    "The check was stopped after %(seconds)s seconds: %(done)s of %(total)s "
                    "transcripts were checked."
                )
                % {
                    "seconds": int(limits.max_seconds),
                    "done": report.transcripts_checked,
                    "total": total,
                },
            )
            return
        xml_path, pdf_path = entry.paths
        hocba = None
        xml = _read_checked(archive, files[xml_path], limits, budget, report)
        if xml is not None:
            hocba = _check_xml(xml_path, xml, entry, manifest, anchor_paths, limits, report)
        pdf = _read_checked(archive, files[pdf_path], limits, budget, report)
        if pdf is not None:
            _check_pdf(pdf_path, pdf, entry, hocba, anchors, limits, report)
        report.transcripts_checked += 1
        if progress is not None:
            progress(report.transcripts_checked, total)
        if budget.spent > budget.limit:
            return
    report.transcripts_verified = True
