"""The verifier's bounds and the reading of a ZIP under them: the central directory judged
before anything is inflated, each member inflated a chunk at a time against its limit and the
pass's :class:`Inflation` budget, and XML measured by a pull parser before a tree is built."""

from __future__ import annotations

import dataclasses
import stat
import zipfile
import zlib
from collections.abc import Callable

from django.utils.translation import gettext as _
from lxml import etree

from transcripts.packages import format as fmt
from transcripts.packages.verify.report import PackageReport

#: How much of a member is inflated at a time: the bytes are counted as they come.
CHUNK = 64 * 1024
#: A package holds no archive (each would be another bomb's fuse): by name, and by first bytes.
ARCHIVE_SUFFIXES = (
    ".zip", ".jar", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar", ".tar", ".zst", ".cab", ".lz",
    ".lzma",
)  # fmt: skip
ARCHIVE_MAGIC = (
    b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08", b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00",
    b"7z\xbc\xaf\x27\x1c", b"Rar!", b"\x28\xb5\x2f\xfd", b"MSCF",
)  # fmt: skip
#: A member smaller than this cannot be a bomb: its ratio is not judged (the total still is).
RATIO_FLOOR = 64 * 1024


@dataclasses.dataclass(frozen=True)
class Limits:
    """Bounds that protect the verifier from hostile ZIPs (sizes are uncompressed). The defaults
    are the command line's (a whole school's package, a trusted operator); the public page and
    its job take the settings' (:meth:`public`)."""

    max_members: int = 100_000
    max_member_bytes: int = 64 * 1024 * 1024
    #: Declared, and actually inflated in each pass over the members.
    max_total_bytes: int = 8 * 1024 * 1024 * 1024
    #: A member's uncompressed size over its compressed size (members over RATIO_FLOOR).
    max_ratio: int = 200
    #: Every member's uncompressed size over all their compressed sizes.
    max_overall_ratio: int = 50
    max_manifest_bytes: int = 64 * 1024 * 1024
    max_manifest_elements: int = 2_000_000
    max_signature_bytes: int = 1024 * 1024
    #: Elements of a transcript XML (the package's, or the one a PDF carries).
    max_xml_elements: int = 1_000_000
    #: How deep any XML read may nest.
    max_depth: int = 64
    max_transcripts: int = 100_000
    #: What the PDF streams of one transcript may decode to (checked before pyHanko reads it).
    max_pdf_decoded_bytes: int = 1024 * 1024 * 1024
    #: Seconds the transcripts' signatures may take in all; None: no limit.
    max_seconds: float | None = None

    @classmethod
    def public(cls) -> Limits:
        """The public page's and its job's limits (settings.VERIFY_PACKAGE_*)."""
        from django.conf import settings

        transcripts = settings.VERIFY_PACKAGE_MAX_TRANSCRIPTS
        member = settings.VERIFY_PACKAGE_MAX_MEMBER_BYTES
        return cls(
            max_members=2 * transcripts + len(fmt.SCHEMA_FILES) + 2,
            max_member_bytes=member,
            max_total_bytes=settings.VERIFY_PACKAGE_MAX_UNPACKED_BYTES,
            max_ratio=settings.VERIFY_PACKAGE_MAX_RATIO,
            max_overall_ratio=settings.VERIFY_PACKAGE_MAX_OVERALL_RATIO,
            max_manifest_bytes=settings.VERIFY_PACKAGE_MANIFEST_MAX_BYTES,
            max_manifest_elements=settings.VERIFY_PACKAGE_MANIFEST_MAX_ELEMENTS,
            max_signature_bytes=256 * 1024,
            max_xml_elements=settings.VERIFY_PACKAGE_XML_MAX_ELEMENTS,
            max_depth=32,
            max_transcripts=transcripts,
            max_pdf_decoded_bytes=4 * member,
            max_seconds=settings.VERIFY_PACKAGE_JOB_SECONDS,
        )


class Inflation:
    """The bytes inflated out of the ZIP in one pass over its members, against a budget: what
    was read, never what the headers say."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.spent = 0

    def spend(self, count: int) -> bool:
        self.spent += count
        return self.spent <= self.limit


def _unsafe_name(name: str) -> str | None:
    """Why a member name is unsafe to extract, or None."""
    if not name or name.startswith(("/", "\\")) or "\\" in name or "\x00" in name:
        return _("an absolute or malformed path")
    if len(name) > 1 and name[1] == ":":
        return _("an absolute or malformed path")
    parts = name.split("/")
    if any(part in ("", ".", "..") for part in parts[:-1]) or parts[-1] in (".", ".."):
        return _("a path that leaves the package (.. or an empty segment)")
    return None


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    return info.create_system == 3 and stat.S_ISLNK(info.external_attr >> 16)


def _structure(archive: zipfile.ZipFile, report: PackageReport, limits: Limits) -> bool:
    """Judge the ZIP by its central directory alone (nothing is inflated): whether every member
    is safe to read and the whole within the limits; each problem reported."""
    infos = archive.infolist()
    if len(infos) > limits.max_members:
        report.add("", _("The package has more than %(n)s members.") % {"n": limits.max_members})
        return False
    seen: set[str] = set()
    total = compressed = 0
    for info in infos:
        name = info.filename
        total += info.file_size
        compressed += info.compress_size
        if name in seen:
            report.add(name, _("This member appears twice in the ZIP."))
            continue
        seen.add(name)
        reason = _unsafe_name(name)
        if reason:
            report.add(name, _("Unsafe member name: %(reason)s.") % {"reason": reason})
        elif _is_symlink(info):
            report.add(name, _("Symbolic links are not allowed in a package."))
        elif info.is_dir():
            report.add(name, _("Directory entries are not part of the format."))
        elif info.flag_bits & 0x1:
            report.add(name, _("Encrypted members are not allowed."))
        elif name.lower().endswith(ARCHIVE_SUFFIXES):
            report.add(name, _("An archive inside the package is not allowed."))
        elif info.file_size > limits.max_member_bytes:
            report.add(
                name, _("The member is too large (%(size)s bytes).") % {"size": info.file_size}
            )
        elif info.file_size > RATIO_FLOOR and (
            info.file_size > limits.max_ratio * max(info.compress_size, 1)
        ):
            report.add(name, _("The member is compressed suspiciously well (a ZIP bomb?)."))
    if total > limits.max_total_bytes:
        report.add("", _("The package unpacks to more than the allowed size."))
    elif total > limits.max_overall_ratio * max(compressed, RATIO_FLOOR):
        report.add("", _("The package is compressed suspiciously well (a ZIP bomb?)."))
    elif report.ok and _overlapping(archive, infos):
        report.add("", _("Members of the ZIP overlap one another (a ZIP bomb?)."))
    return report.ok


def _overlapping(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> bool:
    """Whether a member's data runs into the next member or the central directory (the
    "overlapping files" bomb): each needs at least its local header, its name and its data."""
    ends = sorted(infos, key=lambda info: info.header_offset)
    limit = getattr(archive, "start_dir", None)
    for info, following in zip(ends, [*ends[1:], None], strict=True):
        name = info.orig_filename.encode("utf-8" if info.flag_bits & 0x800 else "cp437", "replace")
        end = info.header_offset + 30 + len(name) + info.compress_size
        boundary = following.header_offset if following is not None else limit
        if boundary is not None and end > boundary:
            return True
    return False


def _stream(
    archive: zipfile.ZipFile,
    name: str,
    *,
    limit: int,
    budget: Inflation,
    report: PackageReport,
    sink: Callable[[bytes], object],
) -> bool:
    """Inflate member ``name`` a chunk at a time into ``sink``, counting the bytes against the
    member's ``limit``, its header and the pass's ``budget``; False (reported) when it fails."""
    info = archive.getinfo(name)
    size = 0
    try:
        with archive.open(info) as member:
            while chunk := member.read(CHUNK):
                if size == 0 and chunk.startswith(ARCHIVE_MAGIC):
                    report.add(name, _("An archive inside the package is not allowed."))
                    return False
                size += len(chunk)
                if not budget.spend(len(chunk)):
                    report.add("", _("The package unpacks to more than the allowed size."))
                    return False
                if size > limit or size > info.file_size:
                    report.add(name, _("The member is larger than its header says."))
                    return False
                sink(chunk)
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
        report.add(name, _("The member is damaged: %(error)s") % {"error": exc})
        return False
    except NotImplementedError:
        report.add(name, _("The member uses an unsupported compression method."))
        return False
    return True


def read_member(
    archive: zipfile.ZipFile,
    name: str,
    *,
    limits: Limits,
    budget: Inflation,
    report: PackageReport,
    limit: int | None = None,
) -> bytes | None:
    """Member ``name``'s bytes (at most ``limit``, default the member limit), or None with the
    problem reported."""
    chunks: list[bytes] = []
    limit = limits.max_member_bytes if limit is None else limit
    if not _stream(archive, name, limit=limit, budget=budget, report=report, sink=chunks.append):
        return None
    return b"".join(chunks)


def xml_too_large(data: bytes, *, max_elements: int, max_depth: int) -> str | None:
    """Why ``data`` is more XML than may be built into a tree (too many elements, too deep), or
    None: read by a pull parser (no entities, no network, no DTD, no huge trees) that stops at
    the limit. Malformed XML is left to the parse proper to report."""
    parser = etree.XMLPullParser(
        events=("start", "end"),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
    )
    elements = depth = 0
    try:
        for at in range(0, len(data), CHUNK):
            parser.feed(data[at : at + CHUNK])
            for event, element in parser.read_events():
                if event == "end":
                    depth -= 1
                    element.clear(keep_tail=True)
                    continue
                elements += 1
                depth += 1
                if elements > max_elements:
                    return _("The XML has more than %(n)s elements.") % {"n": max_elements}
                if depth > max_depth:
                    return _("The XML is nested more than %(n)s levels deep.") % {"n": max_depth}
    except etree.XMLSyntaxError:
        return None
    return None
