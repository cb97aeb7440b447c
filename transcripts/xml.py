"""The transcript's machine copy: the snapshot as XML valid against the project's XSDs.

Element names are ASCII abbreviations of the form's Vietnamese headings (``hoTen`` = họ tên,
``diemTBHK1`` = điểm trung bình học kỳ I); the schema documents each one in English. The root
``hocBaSo`` is an envelope: its first child ``hocBa`` (``Id="data"``) holds the data, and XML
signatures (``ds:Signature``, each referencing ``URI="#data"``) follow it as siblings, so any
number of signatures coexist without one changing what another signed. The envelope has no
namespace on purpose: signatures use inclusive C14N 1.1, so a namespace declared on the envelope
would leak into each signature's canonical form after it is inserted and break verification.
Empty results (incomplete) are left out, never written as empty elements. The SHA-256 of the
canonical snapshot JSON is included to tie both copies. ``kyDuyet`` lists who is expected to sign
(homeroom teacher, principal, school seal) with the names known when the snapshot was taken;
the signatures themselves are the ``ds:Signature`` siblings of the data.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from lxml import etree

from transcripts.snapshot import Snapshot, printable, snapshot_digest

NAMESPACE = "urn:sodiem:hocba:1"
SCHEMA_PATH = Path(__file__).parent / "schema" / "hocbaso-v1.xsd"  # imports hocba-v1.xsd
DATA_ID = "data"
ENVELOPE_TAG = "hocBaSo"
DATA_TAG = f"{{{NAMESPACE}}}hocBa"


class InvalidTranscriptXML(ValueError):
    """The XML does not match hocba-v1.xsd; ``errors`` lists libxml2's messages."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("transcript XML is not valid against hocba-v1.xsd:\n" + "\n".join(errors))
        self.errors = errors


class _Builder:
    def __init__(self, parent: etree._Element) -> None:
        self.parent = parent

    def add(self, name: str, text: Any = None, **attrs: Any) -> etree._Element:
        element = etree.SubElement(self.parent, f"{{{NAMESPACE}}}{name}")
        for key, value in attrs.items():
            if value is not None:
                element.set(key, _text(value))
        if text is not None:
            element.text = _text(text)
        return element

    def opt(self, name: str, text: Any, **attrs: Any) -> None:
        """An optional element: left out when the value is None or an empty string."""
        if text is not None and text != "":
            self.add(name, text, **attrs)

    def value(self, name: str, result: dict[str, Any] | None, **attrs: Any) -> None:
        """A result's machine value (``"7.8"``, ``"D"``), left out while incomplete."""
        if result is not None:
            self.add(name, result["value"], **attrs)

    def child(self, name: str, **attrs: Any) -> _Builder:
        return _Builder(self.add(name, **attrs))


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _identity(root: _Builder, student: dict[str, Any]) -> None:
    hs = root.child("hocSinh")
    hs.add("hoTen", student["full_name"])
    hs.add("gioiTinh", student["sex"])
    hs.add("ngaySinh", student["date_of_birth"])
    hs.opt("noiSinh", student["place_of_birth"])
    hs.add("danToc", student["ethnicity"])
    hs.add("quocTich", student["nationality"])
    hs.add("soDinhDanh", student["personal_id"])
    hs.add("maHocSinh", student["student_code"])
    hs.opt("noiCuTru", student["residence"])
    hs.opt("hoTenCha", student["father_name"])
    hs.opt("hoTenMe", student["mother_name"])
    hs.opt("hoTenNguoiGiamHo", student["guardian_name"])
    hs.opt("soDangBo", student["registration_number"])
    hs.opt("ngayNhapHoc", student["admission_date"])


def _school(root: _Builder, snapshot: Snapshot) -> None:
    school = root.child("truong")
    school.add("tenTruong", snapshot["school"]["name"])
    school.add("maTruong", snapshot["school"]["code"])
    school.add("maSo", snapshot["school"]["department_code"])
    school.opt("tinhThanh", snapshot["school"]["province"])
    school.opt("diaDanh", snapshot["school"]["place_name"])
    school.opt("hieuTruong", snapshot["school"]["principal_name"])
    root.add("namHoc", snapshot["year"]["name"])
    lop = root.child("lop")
    lop.add("tenLop", snapshot["class"]["name"])
    lop.add("khoi", snapshot["class"]["grade"])
    lop.opt("giaoVienChuNhiem", snapshot["class"]["homeroom_teacher"])


def _levels(parent: _Builder, name: str, periods: dict[str, Any], names: dict[str, str]) -> None:
    block = parent.child(name)
    for key, element in names.items():
        shown = periods.get(key)
        if shown is None:
            continue
        block.add(
            element,
            shown["value"],
            chuaDieuChinh=shown["unadjusted"] if shown.get("adjusted_for") else None,
            dieuChinhDoMon=shown.get("adjusted_for"),
        )


def _secondary(root: _Builder, snapshot: Snapshot) -> None:
    results = root.child("ketQuaTHCSTHPT")
    for row in snapshot["subjects"]:
        subject = results.child("monHoc", maMon=row["code"])
        subject.add("tenMon", row["name"])
        subject.add("hinhThucDanhGia", "diem" if row["assessment"] == "score" else "nhanXet")
        subject.value("diemTBHK1", row["term1"])
        subject.value("diemTBHK2", row["term2"])
        subject.value("diemTBCN", row["year"])
        subject.value("ketQuaKiemTraLai", row["reassessment"])
        subject.opt("nhanXet", row["comment"])
        subject.opt("giaoVien", row["teacher_name"])
    periods = {"term1": "hocKy1", "term2": "hocKy2", "year": "caNam"}
    _levels(
        results, "ketQuaHocTap", snapshot["learning"], {**periods, "reassessed": "sauKiemTraLai"}
    )
    _levels(
        results, "ketQuaRenLuyen", snapshot["conduct"], {**periods, "reassessed": "sauRenLuyenHe"}
    )
    absences = results.child("nghiHoc")
    absences.add("hocKy1CoPhep", snapshot["absences"]["term1_excused"])
    absences.add("hocKy1KhongPhep", snapshot["absences"]["term1_unexcused"])
    absences.add("hocKy2CoPhep", snapshot["absences"]["term2_excused"])
    absences.add("hocKy2KhongPhep", snapshot["absences"]["term2_unexcused"])
    absences.add("tongSoBuoi", snapshot["absences"]["total"])
    if snapshot["award"]:
        results.add("khenThuong", snapshot["award"]["display"], ma=snapshot["award"]["value"])
    promotion = snapshot["promotion"]
    if promotion:
        results.add(
            "lenLop",
            promotion["display"],
            duoc=promotion["promoted"],
            buocTiep=promotion["next_step"],
        )
    results.add("hoanThanhChuongTrinh", snapshot["completes_programme"])
    results.opt("nhanXetGVCN", snapshot["homeroom_comment"])


def _primary(root: _Builder, snapshot: Snapshot) -> None:
    results = root.child("ketQuaTieuHoc")
    for row in snapshot["subjects"]:
        subject = results.child("monHoc", maMon=row["code"])
        subject.add("tenMon", row["name"])
        subject.value("mucDatHK1", row["term1_level"])
        subject.value("mucDatCN", row["year_level"])
        subject.value("diemKTHK1", row["term1_test"])
        subject.value("diemKTCN", row["year_test"])
        subject.opt("nhanXet", row["comment"])
        subject.opt("giaoVien", row["teacher_name"])
    for group, element in (("qualities", "phamChat"), ("competencies", "nangLuc")):
        for row in snapshot[group]:
            item = results.child(element, ma=row["code"])
            item.add("ten", row["name"])
            item.value("mucDatHK1", row["term1"])
            item.value("mucDatCN", row["year"])
    results.value("ketQuaCuoiNam", snapshot["result"])
    if snapshot["award"]:
        results.add("khenThuong", snapshot["award"]["display"], ma=snapshot["award"]["value"])
    completion = snapshot["completion"]
    if completion["completed"] is not None:
        results.add("hoanThanh", completion["display"], duoc=completion["completed"])
    results.add("hoanThanhChuongTrinh", snapshot["completes_programme"])
    results.opt("nhanXetGVCN", snapshot["homeroom_comment"])


#: Who signs a transcript, in signing order: (role code, title as printed on the form).
SIGNERS = (
    ("homeroom", "Giáo viên chủ nhiệm"),
    ("principal", "Hiệu trưởng"),
    ("seal", "Nhà trường (chữ ký số của cơ quan)"),
)


def _signers(root: _Builder, snapshot: Snapshot) -> None:
    names = {
        "homeroom": snapshot["class"]["homeroom_teacher"],
        "principal": snapshot["school"]["principal_name"],
        "seal": snapshot["school"]["name"],
    }
    signers = root.child("kyDuyet")
    for role, title in SIGNERS:
        signers.add("nguoiKy", vaiTro=role, chucDanh=title, hoTen=names[role] or None)


def snapshot_to_xml(snapshot: Snapshot, *, transcript_id: str, version: int) -> bytes:
    """The transcript version as UTF-8 XML (with declaration) for ``snapshot``: the envelope
    ``hocBaSo`` holding the data element ``hocBa Id="data"``, ready for signatures. A snapshot
    stored by an earlier release gets the defaults of the keys it lacks (its digest is of the
    snapshot as stored)."""
    digest = snapshot_digest(snapshot)
    snapshot = printable(snapshot)
    envelope = etree.Element(ENVELOPE_TAG)
    root = etree.SubElement(envelope, DATA_TAG, nsmap={None: NAMESPACE})
    root.set("Id", DATA_ID)
    root.set("maHocBa", transcript_id)
    root.set("phienBan", str(version))
    root.set("dinhDang", snapshot["format"])
    builder = _Builder(root)
    _identity(builder, snapshot["student"])
    _school(builder, snapshot)
    if snapshot["kind"] == "primary":
        _primary(builder, snapshot)
    else:
        _secondary(builder, snapshot)
    _signers(builder, snapshot)
    builder.add("maBamDuLieu", digest, thuatToan="SHA-256")
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


def data_element(document: etree._Element) -> etree._Element:
    """The ``hocBa`` data element of a parsed envelope."""
    found = document.find(DATA_TAG)
    if found is None:
        raise InvalidTranscriptXML(["no hocBa data element in the envelope"])
    return found


@cache
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA_PATH)))


def validate_xml(xml_bytes: bytes) -> None:
    """Raise :class:`InvalidTranscriptXML` unless ``xml_bytes`` is a ``hocBaSo`` document valid
    against the XSDs (hocbaso-v1.xsd, importing hocba-v1.xsd).

    Signatures (``ds:Signature``) may follow the data element inside the ``hocBaSo`` envelope.
    """
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    try:
        document = etree.fromstring(xml_bytes, parser)
    except etree.XMLSyntaxError as error:
        raise InvalidTranscriptXML([str(error)]) from error
    if document.tag != ENVELOPE_TAG:
        raise InvalidTranscriptXML([f"the root element must be {ENVELOPE_TAG}, not {document.tag}"])
    xsd = schema()
    if not xsd.validate(document):
        raise InvalidTranscriptXML([f"line {e.line}: {e.message}" for e in xsd.error_log])
