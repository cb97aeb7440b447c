"""The transcript XML: valid against hocba-v1.xsd, and a broken one is refused with a reason."""

from __future__ import annotations

import datetime

import pytest
from lxml import etree

from schools.models import TeachingAssignment
from tests.gradebook.marks import primary_year
from tests.transcripts.test_snapshot_builder import bình, grade4_class, secondary_year  # noqa: F401
from transcripts.snapshot import build_snapshot, snapshot_digest
from transcripts.xml import NAMESPACE, InvalidTranscriptXML, snapshot_to_xml, validate_xml

NS = {"h": NAMESPACE}


@pytest.fixture
def snapshot(bình, class_a):  # noqa: F811
    return build_snapshot(bình, class_a.year)


def data_of(xml: bytes) -> etree._Element:
    envelope = etree.fromstring(xml)
    assert envelope.tag == "hocBaSo" and not envelope.nsmap and len(envelope) == 1
    return envelope.find("h:hocBa", NS)


def test_secondary_xml_is_valid(snapshot):
    xml = snapshot_to_xml(snapshot, transcript_id="HB-2025-000001", version=1)
    validate_xml(xml)
    root = data_of(xml)
    assert root.get("Id") == "data" and root.get("phienBan") == "1"
    assert root.findtext("h:hocSinh/h:hoTen", namespaces=NS) == "Nguyễn Văn Bình"
    assert root.findtext("h:hocSinh/h:soDinhDanh", namespaces=NS) == "001214000001"
    maths = root.find("h:ketQuaTHCSTHPT/h:monHoc[@maMon='TOAN']", NS)
    assert maths.findtext("h:diemTBHK1", namespaces=NS) == "7.8"
    assert maths.findtext("h:diemTBCN", namespaces=NS) == "8.1"
    assert root.findtext("h:maBamDuLieu", namespaces=NS) == snapshot_digest(snapshot)


def test_incomplete_results_are_left_out_and_still_valid(class_a):
    student = class_a.enrollments.get(student__full_name="Trần Thị An").student
    xml = snapshot_to_xml(build_snapshot(student, class_a.year), transcript_id="HB-2", version=3)
    validate_xml(xml)
    assert b"diemTBCN" not in xml and "Trần Thị An".encode() in xml


def test_missing_required_element_fails_with_a_message(snapshot):
    root = etree.fromstring(snapshot_to_xml(snapshot, transcript_id="HB-1", version=1))
    identity = root.find("h:hocBa/h:hocSinh", NS)
    identity.remove(identity.find("h:soDinhDanh", NS))
    with pytest.raises(InvalidTranscriptXML) as error:
        validate_xml(etree.tostring(root))
    assert "soDinhDanh" in str(error.value) and error.value.errors


def test_bad_score_is_refused(snapshot):
    snapshot["subjects"][0]["year"] = {"value": "7,8", "display": "7,8"}
    with pytest.raises(InvalidTranscriptXML, match="diemTBCN"):
        validate_xml(snapshot_to_xml(snapshot, transcript_id="HB-1", version=1))


def test_not_xml_is_refused():
    with pytest.raises(InvalidTranscriptXML):
        validate_xml(b"<hocBa")


def test_primary_xml_is_valid(grade4_class):  # noqa: F811
    student = grade4_class.enrollments.get().student
    primary_year(grade4_class, student)
    xml = snapshot_to_xml(
        build_snapshot(student, grade4_class.year), transcript_id="HB-P", version=1
    )
    validate_xml(xml)
    root = data_of(xml)
    assert len(root.findall("h:ketQuaTieuHoc/h:phamChat", NS)) == 5
    assert root.findtext("h:ketQuaTieuHoc/h:ketQuaCuoiNam", namespaces=NS) in {"HTXS", "HTT"}


def test_signed_envelope_is_valid_and_the_bare_data_is_not(snapshot, pki_person_signer):
    from transcripts.signing.formats import sign_xml, xml_signature_count

    xml = snapshot_to_xml(snapshot, transcript_id="HB-1", version=1)
    signed = sign_xml(
        sign_xml(xml, pki_person_signer, reference_id="data"),
        pki_person_signer,
        reference_id="data",
    )
    assert xml_signature_count(signed) == 2
    validate_xml(signed)
    with pytest.raises(InvalidTranscriptXML):  # the data element alone is not a document
        validate_xml(etree.tostring(data_of(xml)))
    envelope = etree.fromstring(signed)
    envelope.append(etree.Element(f"{{{NAMESPACE}}}hocBa"))
    with pytest.raises(InvalidTranscriptXML):  # nothing but signatures after the data
        validate_xml(etree.tostring(envelope))


# --- the official form's other elements and the signers (issue 14) ------------------------------

NEW_ELEMENTS = ("soDangBo", "ngayNhapHoc", "diaDanh", "hieuTruong", "giaoVien", "kyDuyet")


def test_register_admission_place_principal_and_teachers_are_in_the_xml(
    bình,  # noqa: F811
    class_a,
    principal,
):
    bình.registration_number = "125/2025"
    bình.admission_date = datetime.date(2025, 9, 5)
    bình.save()
    school = class_a.year.school
    school.place_name = "Quận Ba Đình"
    school.save()
    xml = snapshot_to_xml(build_snapshot(bình, class_a.year), transcript_id="HB-1", version=1)
    validate_xml(xml)
    root = data_of(xml)
    assert root.findtext("h:hocSinh/h:soDangBo", namespaces=NS) == "125/2025"
    assert root.findtext("h:hocSinh/h:ngayNhapHoc", namespaces=NS) == "2025-09-05"
    assert root.findtext("h:truong/h:diaDanh", namespaces=NS) == "Quận Ba Đình"
    assert root.findtext("h:truong/h:hieuTruong", namespaces=NS) == "principal"
    maths = root.find("h:ketQuaTHCSTHPT/h:monHoc[@maMon='TOAN']", NS)
    assert maths.findtext("h:giaoVien", namespaces=NS) == "teacher"


def test_the_expected_signers_are_listed_by_role(snapshot, principal):
    xml = snapshot_to_xml(snapshot, transcript_id="HB-1", version=1)
    signers = data_of(xml).findall("h:kyDuyet/h:nguoiKy", NS)
    assert [(s.get("vaiTro"), s.get("chucDanh"), s.get("hoTen")) for s in signers] == [
        ("homeroom", "Giáo viên chủ nhiệm", "homeroom"),
        ("principal", "Hiệu trưởng", None),  # no principal when the snapshot was taken
        ("seal", "Nhà trường (chữ ký số của cơ quan)", "Trường THCS Ánh Dương"),
    ]
    validate_xml(xml)


def test_primary_xml_names_the_subject_teachers(grade4_class, teacher):  # noqa: F811
    student = grade4_class.enrollments.get().student
    tv = grade4_class.year.school.subjects.get(code="TV")
    TeachingAssignment.objects.create(teacher=teacher, class_group=grade4_class, subject=tv)
    primary_year(grade4_class, student)
    xml = snapshot_to_xml(build_snapshot(student, grade4_class.year), transcript_id="P", version=1)
    validate_xml(xml)
    tv_row = data_of(xml).find("h:ketQuaTieuHoc/h:monHoc[@maMon='TV']", NS)
    assert tv_row.findtext("h:giaoVien", namespaces=NS) == "teacher"


def test_files_made_before_the_new_elements_stay_valid(snapshot):
    """The schema grew compatibly: every new element is optional, so a file signed before (which
    has none of them) still validates."""
    envelope = etree.fromstring(snapshot_to_xml(snapshot, transcript_id="HB-1", version=1))
    new = [e for name in NEW_ELEMENTS for e in envelope.iter(f"{{{NAMESPACE}}}{name}")]
    assert {etree.QName(e).localname for e in new} >= {"giaoVien", "kyDuyet"}
    for element in new:
        element.getparent().remove(element)
    validate_xml(etree.tostring(envelope))


def test_a_snapshot_stored_before_the_new_keys_gives_valid_xml_with_its_own_digest(snapshot):
    for key in ("place_name", "principal_name"):
        del snapshot["school"][key]
    for key in ("registration_number", "admission_date", "admission_date_display"):
        del snapshot["student"][key]
    for row in snapshot["subjects"]:
        del row["teacher_name"]
    xml = snapshot_to_xml(snapshot, transcript_id="HB-1", version=1)
    validate_xml(xml)
    assert data_of(xml).findtext("h:maBamDuLieu", namespaces=NS) == snapshot_digest(snapshot)
    assert data_of(xml).find("h:hocSinh/h:soDangBo", NS) is None
    assert not data_of(xml).findall("h:ketQuaTHCSTHPT/h:monHoc/h:giaoVien", NS)
