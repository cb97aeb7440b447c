"""Package format v1: what is in the ZIP, where, and the manifest that lists it.

A package is a ZIP holding, in this order (docs/package-format.md):

- ``schema/``: the XSDs the package was made against (goi-hocba-v1.xsd, hocbaso-v1.xsd,
  hocba-v1.xsd);
- per transcript version, ``transcripts/<student code>/<version>.xml`` (the signed XML) and
  ``transcripts/<student code>/<version>.pdf`` (the signed PDF/A-3 carrying that XML's data);
- ``marks/<student code>.json`` (single packages of a student who left before the year
  ended): the individual marks of the year so far, for the new school's gradebook
  (:mod:`transcripts.packages.marks`);
- ``ledger/checkpoint.json`` (when the school has marks): the school's ledger checkpoint
  signed when the package was made (gradebook/checkpoints.py), a copy of the marks' history
  head kept outside the school's database;
- ``manifest.xml``: the package's identity and scope, every transcript version it carries or
  withdraws (with who signed it: role, name and certificate subject of each recorded
  signature), and the size and SHA-256 of every other member;
- ``manifest.p7s``: a detached CMS signature over ``manifest.xml`` by the school's seal.

The manifest comes last because only then are the digests known (the ZIP is written in one
streaming pass). Members are written deterministically (fixed time stamp, permissions, order
and compression), and the package id is derived from the manifest's content, so the same
versions give a byte-identical ZIP apart from the manifest's creation time and signature.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import uuid
import zipfile
from functools import cache
from importlib import metadata
from pathlib import Path
from urllib.parse import quote

from lxml import etree

from gradebook.checkpoints import PACKAGE_MEMBER

FORMAT_VERSION = "1"
NAMESPACE = "urn:sodiem:goi-hocba:1"
MANIFEST = "manifest.xml"
SIGNATURE = "manifest.p7s"
SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schema"
MANIFEST_SCHEMA = "goi-hocba-v1.xsd"
#: The schema files every v1 package carries under schema/.
SCHEMA_FILES = (MANIFEST_SCHEMA, "hocba-v1.xsd", "hocbaso-v1.xsd")
TRANSCRIPTS_DIR = "transcripts"
#: The school's ledger checkpoint.
LEDGER_CHECKPOINT = PACKAGE_MEMBER
#: A leaver's marks of the year so far (single packages only): marks/<student code>.json.
MARKS_DIR = "marks"
GENERATOR = "sodiem"
#: Every member's time stamp: the ZIP format's earliest date, so that nothing depends on when.
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
ZIP_COMPRESSLEVEL = 6
_NO_ID = "00000000-0000-0000-0000-000000000000"
_NO_TIME = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


class ManifestError(ValueError):
    """The manifest cannot be read or is not valid against goi-hocba-v1.xsd."""


def generator_version() -> str:
    try:
        return metadata.version(GENERATOR)
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0"


def path_segment(code: str) -> str:
    """A student code as one safe path segment: unreserved characters kept, everything else
    (including a leading dot, so never "." or "..") percent-encoded, reversibly."""
    if not code:
        raise ValueError("empty student code")
    segment = quote(code, safe="")
    return "%2E" + segment[1:] if segment.startswith(".") else segment


def transcript_paths(student_code: str, version: int) -> tuple[str, str]:
    """The (xml, pdf) member paths of a transcript version."""
    base = f"{TRANSCRIPTS_DIR}/{path_segment(student_code)}/{version}"
    return f"{base}.xml", f"{base}.pdf"


def marks_path(student_code: str) -> str:
    """The member path of a student's marks of the year so far."""
    return f"{MARKS_DIR}/{path_segment(student_code)}.json"


def zip_info(name: str, *, compress: bool) -> zipfile.ZipInfo:
    """A member header that depends on nothing but the name and the compression."""
    info = zipfile.ZipInfo(name, date_time=ZIP_TIMESTAMP)
    info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    info.create_system = 3  # Unix, whatever machine writes it
    info.external_attr = 0o100644 << 16  # a regular file, rw-r--r--
    return info


# --- the manifest --------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class FileEntry:
    path: str
    size: int
    sha256: str


@dataclasses.dataclass(frozen=True)
class SignerEntry:
    """One recorded signature of a transcript version: the role (homeroom, principal, seal),
    the name of who signed (for the seal, the person who applied it) and the certificate's
    subject (for the seal, the school's organisational certificate)."""

    role: str
    name: str
    certificate_subject: str


@dataclasses.dataclass(frozen=True)
class TranscriptEntry:
    transcript_id: str
    student_code: str
    version: int
    verification_code: str
    class_name: str
    signatures: int
    #: Who signed, in signing order; empty in manifests made before signers were listed.
    signers: tuple[SignerEntry, ...] = ()

    @property
    def paths(self) -> tuple[str, str]:
        return transcript_paths(self.student_code, self.version)


@dataclasses.dataclass(frozen=True)
class Withdrawal:
    transcript_id: str
    student_code: str
    version: int
    verification_code: str
    withdrawn_at: datetime.datetime
    reason: str


@dataclasses.dataclass(frozen=True)
class Scope:
    students: int
    left_out: int
    only_final: bool


@dataclasses.dataclass(frozen=True)
class Manifest:
    kind: str
    school_code: str
    department_code: str
    school_name: str
    school_year: str
    scope: Scope
    transcripts: tuple[TranscriptEntry, ...]
    withdrawals: tuple[Withdrawal, ...]
    files: tuple[FileEntry, ...]
    generator: str = GENERATOR
    generator_version: str = dataclasses.field(default_factory=generator_version)
    package_id: str = ""
    created_at: datetime.datetime | None = None

    def with_identity(self, *, created_at: datetime.datetime) -> Manifest:
        """This manifest with its package id (derived from everything but the id and the time)
        and its creation time."""
        content = manifest_xml(dataclasses.replace(self, package_id="", created_at=None))
        digest = bytearray(hashlib.sha256(content).digest()[:16])
        digest[6] = (digest[6] & 0x0F) | 0x80  # RFC 9562 version 8: a custom, name-based UUID
        digest[8] = (digest[8] & 0x3F) | 0x80
        package_id = str(uuid.UUID(bytes=bytes(digest)))
        return dataclasses.replace(self, package_id=package_id, created_at=created_at)

    def file(self, path: str) -> FileEntry | None:
        return next((entry for entry in self.files if entry.path == path), None)


def _time(value: datetime.datetime) -> str:
    return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sub(parent: etree._Element, name: str, text: str | None = None, **attrs: str):
    element = etree.SubElement(parent, f"{{{NAMESPACE}}}{name}")
    for key, value in attrs.items():
        element.set(key, value)
    if text is not None:
        element.text = text
    return element


def manifest_xml(manifest: Manifest) -> bytes:
    """The manifest as UTF-8 XML: one element per line, attributes in a fixed order."""
    root = etree.Element(
        f"{{{NAMESPACE}}}goiHocBa", nsmap={None: NAMESPACE}, phienBanDinhDang=FORMAT_VERSION
    )
    _sub(root, "maGoi", manifest.package_id or _NO_ID)
    _sub(root, "loaiGoi", manifest.kind)
    school = _sub(root, "truong")
    _sub(school, "maTruong", manifest.school_code)
    _sub(school, "maSo", manifest.department_code)
    _sub(school, "tenTruong", manifest.school_name)
    _sub(root, "namHoc", manifest.school_year)
    _sub(root, "phanMem", ten=manifest.generator, phienBan=manifest.generator_version)
    _sub(root, "thoiDiemTao", _time(manifest.created_at or _NO_TIME))
    _sub(
        root,
        "phamVi",
        soHocSinh=str(manifest.scope.students),
        soHocBa=str(len(manifest.transcripts)),
        soRutLai=str(len(manifest.withdrawals)),
        soChuaHoanTat=str(manifest.scope.left_out),
        chiBanChinhThuc="true" if manifest.scope.only_final else "false",
    )
    for entry in manifest.transcripts:
        xml_path, pdf_path = entry.paths
        transcript = _sub(
            root,
            "hocBa",
            maHocBa=entry.transcript_id,
            maHocSinh=entry.student_code,
            phienBan=str(entry.version),
            maXacThuc=entry.verification_code,
            lop=entry.class_name,
            soChuKy=str(entry.signatures),
            xml=xml_path,
            pdf=pdf_path,
        )
        for signer in entry.signers:
            attrs = {"vaiTro": signer.role, "hoTen": signer.name}
            if signer.certificate_subject:
                attrs["chungThu"] = signer.certificate_subject
            _sub(transcript, "nguoiKy", **attrs)
    for withdrawal in manifest.withdrawals:
        _sub(
            root,
            "rutLai",
            maHocBa=withdrawal.transcript_id,
            maHocSinh=withdrawal.student_code,
            phienBan=str(withdrawal.version),
            maXacThuc=withdrawal.verification_code,
            ngay=_time(withdrawal.withdrawn_at),
            lyDo=withdrawal.reason,
        )
    for file in manifest.files:
        _sub(root, "tep", duongDan=file.path, kichThuoc=str(file.size), sha256=file.sha256)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


@cache
def manifest_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA_DIR / MANIFEST_SCHEMA)))


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def _parse_time(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def parse_manifest(data: bytes) -> Manifest:
    """Read a manifest, after validating it against this program's own copy of the XSD (never
    the package's, which could have been changed with it)."""
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise ManifestError(f"not readable XML: {exc}") from exc
    if root.getroottree().docinfo.doctype:
        raise ManifestError("a document type declaration is not allowed")
    schema = manifest_schema()
    if not schema.validate(root):
        errors = "; ".join(f"line {e.line}: {e.message}" for e in schema.error_log)
        raise ManifestError(f"not valid against {MANIFEST_SCHEMA}: {errors}")

    def one(path: str) -> etree._Element:
        return root.find(path, {"g": NAMESPACE})

    def every(name: str) -> list[etree._Element]:
        return root.findall(f"g:{name}", {"g": NAMESPACE})

    for element in every("hocBa"):
        expected = transcript_paths(element.get("maHocSinh"), int(element.get("phienBan")))
        if (element.get("xml"), element.get("pdf")) != expected:
            raise ManifestError(
                f"the files of {element.get('maHocSinh')} v{element.get('phienBan')} must be "
                f"{expected[0]} and {expected[1]}"
            )
    scope = one("g:phamVi")
    return Manifest(
        kind=one("g:loaiGoi").text,
        school_code=one("g:truong/g:maTruong").text,
        department_code=one("g:truong/g:maSo").text,
        school_name=one("g:truong/g:tenTruong").text,
        school_year=one("g:namHoc").text,
        scope=Scope(
            students=int(scope.get("soHocSinh")),
            left_out=int(scope.get("soChuaHoanTat")),
            only_final=scope.get("chiBanChinhThuc") in ("true", "1"),
        ),
        transcripts=tuple(
            TranscriptEntry(
                e.get("maHocBa"),
                e.get("maHocSinh"),
                int(e.get("phienBan")),
                e.get("maXacThuc"),
                e.get("lop"),
                int(e.get("soChuKy")),
                tuple(
                    SignerEntry(s.get("vaiTro"), s.get("hoTen"), s.get("chungThu", ""))
                    for s in e.findall("g:nguoiKy", {"g": NAMESPACE})
                ),
            )
            for e in every("hocBa")
        ),
        withdrawals=tuple(
            Withdrawal(
                e.get("maHocBa"),
                e.get("maHocSinh"),
                int(e.get("phienBan")),
                e.get("maXacThuc"),
                _parse_time(e.get("ngay")),
                e.get("lyDo"),
            )
            for e in every("rutLai")
        ),
        files=tuple(
            FileEntry(e.get("duongDan"), int(e.get("kichThuoc")), e.get("sha256"))
            for e in every("tep")
        ),
        generator=one("g:phanMem").get("ten"),
        generator_version=one("g:phanMem").get("phienBan"),
        package_id=one("g:maGoi").text,
        created_at=_parse_time(one("g:thoiDiemTao").text),
    )
