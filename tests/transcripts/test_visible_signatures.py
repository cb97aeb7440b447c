"""Visible signatures: the rendered học bạ has three empty signature fields at the official places
(homeroom teacher, principal, school seal over the principal's signature), each signer's
appearance is drawn into its field when they sign, the fields are locked (FieldMDP) as they are
signed, every signature stays valid for pdfsig and pyHanko, and the signature blocks stay on
the results page (two pages for a full secondary year)."""

from __future__ import annotations

import copy
import dataclasses
import datetime
import io
import re
import subprocess
from pathlib import Path

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import FieldMDPAction, FieldMDPSpec
from weasyprint import HTML

from gradebook.demo import HOMEROOM_COMMENTS, SUBJECT_COMMENTS
from tests.gradebook.marks import primary_year
from tests.transcripts.conftest import (
    PKI_PERSON,
    actors,
    assert_pdf_signatures,
    pki_make_cert,
    pyhanko_statuses,
    sign_all,
    stored,
)
from tests.transcripts.test_snapshot_builder import bình, grade4_class  # noqa: F401
from transcripts.models import SignerRole
from transcripts.pipeline import sign_version
from transcripts.render import (
    STYLESHEET,
    font_config,
    render_transcript_pdf,
    signature_field_boxes,
    stylesheet,
    transcript_html,
)
from transcripts.signing import appearance
from transcripts.signing.appearance import (
    SignatureAppearance,
    add_signature_fields,
    appearance_for,
    date_line,
)
from transcripts.signing.formats import finish_pdf, prepare_pdf, sign_pdf
from transcripts.signing.signers import Pkcs12Signer, SigningError
from transcripts.snapshot import build_snapshot
from transcripts.workflow import confirm_ready
from transcripts.xml import snapshot_to_xml

CODE, URL = "K7QF-2M9D", "https://sodiem.example/verify/K7QF-2M9D/"
FIELDS = ("GVCN", "HieuTruong", "DauTruong")
SCHOOL = {
    "name": "Trường THCS Ánh Dương",
    "province": "Hà Nội",
    "place_name": "Quận Ba Đình",
    "principal_name": "Nguyễn Thị Hương",
}
#: 09:15:42 in Hà Nội (UTC+7)
SIGNED_AT = datetime.datetime(2027, 5, 31, 2, 15, 42, tzinfo=datetime.UTC)


def render(snapshot) -> bytes:
    xml = snapshot_to_xml(snapshot, transcript_id="HB-1", version=1)
    return render_transcript_pdf(
        snapshot, xml_bytes=xml, verification_code=CODE, verification_url=URL
    )


def fields_of(pdf: bytes) -> dict[str, dict]:
    """Each signature field: its page (0-based), rectangle, lock and whether it is signed."""
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    pages = [ref.idnum for ref in reader.root["/Pages"]["/Kids"]]
    found = {}
    for ref in reader.root["/AcroForm"]["/Fields"]:
        field = ref.get_object()
        if field.get("/FT") != "/Sig":
            continue
        found[str(field["/T"])] = {
            "page": pages.index(field.raw_get("/P").idnum),
            "rect": tuple(float(v) for v in field["/Rect"]),
            "lock": FieldMDPSpec.from_pdf_object(field["/Lock"]).fields,
            "signed": "/V" in field,
        }
    return found


def page_text(pdf: bytes, page: int, tmp_path: Path) -> str:
    path = tmp_path / "page.pdf"
    path.write_bytes(pdf)
    run = subprocess.run(
        ["pdftotext", "-f", str(page), "-l", str(page), str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    )
    return " ".join(run.stdout.split())


def word_boxes(pdf: bytes, page: int, tmp_path: Path) -> list[tuple[str, float, float]]:
    """(word, x centre, y centre from the bottom) on ``page`` (1-based), from poppler."""
    path = tmp_path / "words.pdf"
    path.write_bytes(pdf)
    html = subprocess.run(
        ["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    height = float(re.search(r'<page width="[\d.]+" height="([\d.]+)"', html).group(1))
    words = re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]+)</word>',
        html,
    )
    return [
        (text, (float(x1) + float(x2)) / 2, height - (float(y1) + float(y2)) / 2)
        for x1, y1, x2, y2, text in words
    ]


def inside(point: tuple[float, float], rect: tuple[float, ...]) -> bool:
    x, y = point
    return rect[0] <= x <= rect[2] and rect[1] <= y <= rect[3]


@pytest.fixture
def rendered(bình, class_a) -> bytes:  # noqa: F811
    return render(build_snapshot(bình, class_a.year))


def signer(common_name: str, *, organisation: str | None = None) -> Pkcs12Signer:
    ca_key, ca = pki_make_cert(common_name="CA", ca=True)
    key, cert = pki_make_cert(
        common_name=common_name, organisation=organisation, issuer=(ca_key, ca)
    )
    return Pkcs12Signer(key, cert, [ca])


def sign_field(pdf: bytes, holder, field: str, school: dict = SCHOOL) -> bytes:
    prepared = prepare_pdf(
        pdf,
        holder,
        field_name=field,
        reason="Ký học bạ",
        location=school["name"],
        appearance=appearance_for(field, school),
        signed_at=SIGNED_AT,
    )
    return finish_pdf(prepared, holder, holder.sign_digest(prepared.digest))


# --- the empty fields ----------------------------------------------------------------------------


def test_the_rendered_transcript_has_three_empty_locked_fields_on_the_results_page(rendered):
    fields = fields_of(rendered)
    assert set(fields) == set(FIELDS)
    assert all(f["page"] == 1 and not f["signed"] for f in fields.values())
    assert fields["GVCN"]["lock"] == ["GVCN"]
    assert fields["HieuTruong"]["lock"] == ["GVCN", "HieuTruong"]
    assert fields["DauTruong"]["lock"] == ["GVCN", "HieuTruong", "DauTruong"]
    homeroom, principal, seal = (fields[name]["rect"] for name in FIELDS)
    assert homeroom[2] < 297.6 < principal[0]  # left and right halves of the A4 page
    # the seal lies over the left part of the principal's signature, inside the block
    assert principal[0] <= seal[0] < seal[2] < (principal[0] + principal[2]) / 2
    assert principal[1] < seal[1] < seal[3] < principal[3]
    assert seal[1] == pytest.approx(principal[1] + appearance.NAME_SLOT_PT, abs=0.1)
    assert seal[3] - seal[1] == pytest.approx(appearance.STAMP_SLOT_PT, abs=0.1)


def test_the_fields_are_where_the_page_prints_the_signature_blocks(rendered, tmp_path):
    fields = fields_of(rendered)
    words = word_boxes(rendered, 2, tmp_path)
    principal = next(w for w in words if w[0] == "HIỆU")
    assert inside(principal[1:], fields["HieuTruong"]["rect"])
    assert not inside(principal[1:], fields["DauTruong"]["rect"])
    homeroom_title = next(w for w in words if w[0] == "CHỦ")
    homeroom = fields["GVCN"]["rect"]
    assert homeroom[0] < homeroom_title[1] < homeroom[2]
    assert 0 < homeroom_title[2] - homeroom[3] < 30  # just above the signature's box
    teacher = [w for w in words if w[0] == "homeroom" and w[1] < 297.6][-1]  # the name under it
    assert homeroom[0] < teacher[1] < homeroom[2] and 0 < homeroom[1] - teacher[2] < 15


def test_the_principals_slots_are_the_heights_the_appearance_draws_in(bình, class_a):  # noqa: F811
    html = transcript_html(
        build_snapshot(bình, class_a.year), verification_code=CODE, verification_url=URL
    )
    document = HTML(string=html, base_url=str(STYLESHEET.parent)).render(
        stylesheets=[stylesheet()], font_config=font_config()
    )
    block = next(
        box
        for box in document.pages[1]._page_box.descendants()
        if getattr(box, "element", None) is not None
        and box.element.get("data-signature-field") == "HieuTruong"
    )
    heights = {}
    for box in block.descendants():
        if box.element is not None and box.element is not block.element:
            heights.setdefault(box.element.get("class"), box.border_height() * 0.75)
    assert heights["sig-date"] == pytest.approx(appearance.DATE_SLOT_PT, abs=0.01)
    assert heights["sig-stamp"] == pytest.approx(appearance.STAMP_SLOT_PT, abs=0.01)
    assert heights["sig-name"] == pytest.approx(appearance.NAME_SLOT_PT, abs=0.01)


def test_the_fields_are_added_deterministically(bình, class_a):  # noqa: F811
    snapshot = build_snapshot(bình, class_a.year)
    html = transcript_html(snapshot, verification_code=CODE, verification_url=URL)
    layouts = [
        signature_field_boxes(
            HTML(string=html, base_url=str(STYLESHEET.parent)).render(
                stylesheets=[stylesheet()], font_config=font_config()
            )
        )
        for _ in range(2)
    ]
    assert layouts[0] == layouts[1] and len(layouts[0]) == 3
    pdf = HTML(string="<p>Học bạ</p>").write_pdf()
    boxes = [dataclasses.replace(box, page=0) for box in layouts[0]]
    assert add_signature_fields(pdf, boxes) == add_signature_fields(pdf, boxes)
    assert add_signature_fields(pdf, boxes).startswith(pdf)  # an incremental update


def test_the_rendered_pdf_stays_pdfa_with_its_fields(rendered, tmp_path):
    path = tmp_path / "rendered.pdf"
    path.write_bytes(rendered)
    meta = subprocess.run(["pdfinfo", "-meta", str(path)], capture_output=True, text=True).stdout
    assert 'pdfaid:part="3"' in meta and "pyHanko" not in meta  # WeasyPrint's, untouched
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout
    assert re.search(r"^Form:\s+AcroForm$", info, re.M)


def test_the_identity_page_names_no_blank_date_and_no_field(rendered, tmp_path):
    identity = page_text(rendered, 1, tmp_path)
    assert "HIỆU TRƯỞNG" in identity and "trang kết quả năm học" in identity
    assert "……" not in identity and "……" not in page_text(rendered, 2, tmp_path)


# --- appearances ---------------------------------------------------------------------------------


def test_three_signers_draw_their_appearances_and_all_signatures_stay_valid(
    rendered, tmp_path, pki, pki_nssdb, pki_person_signer, pki_seal_signer
):
    principal = signer("NGUYEN THI HUONG")
    signed = sign_field(rendered, pki_person_signer, "GVCN")
    signed = sign_field(signed, principal, "HieuTruong")
    text = page_text(signed, 2, tmp_path)
    assert f"Ký bởi: {PKI_PERSON}" in text and "GIÁO VIÊN CHỦ NHIỆM" in text
    assert "Thời gian ký: 31/05/2027 09:15" in text  # Vietnam time
    assert "Ký bởi: NGUYEN THI HUONG" in text
    assert "Quận Ba Đình, ngày 31 tháng 5 năm 2027" in text
    assert "Nguyễn Thị Hương" in text  # the snapshot's spelling of the certificate's name
    signed = sign_field(signed, pki_seal_signer, "DauTruong")
    assert "TRƯỜNG THCS ÁNH DƯƠNG" in " ".join(page_text(signed, 2, tmp_path).split())
    assert "31/05/2027 09:15:42 +07:00" in page_text(signed, 2, tmp_path)
    before, after = fields_of(rendered), fields_of(signed)
    assert all(after[name]["signed"] for name in FIELDS)
    assert {n: f["rect"] for n, f in after.items()} == {n: f["rect"] for n, f in before.items()}
    statuses = pyhanko_statuses(signed, pki)
    assert [s.intact and s.valid for s in statuses] == [True, True, True]
    assert [s.docmdp_ok for s in statuses] == [True, True, True]
    reader = PdfFileReader(io.BytesIO(signed), strict=False)
    assert [s.fieldmdp.fields for s in reader.embedded_signatures] == [
        ["GVCN"],
        ["GVCN", "HieuTruong"],
        ["GVCN", "HieuTruong", "DauTruong"],
    ]
    assert [s.self_reported_timestamp for s in reader.embedded_signatures] == [SIGNED_AT] * 3


def test_a_principal_whose_certificate_names_someone_else_is_printed_as_the_certificate(
    rendered, tmp_path
):
    signed = sign_field(rendered, signer("Trần Văn Phó"), "HieuTruong")
    text = page_text(signed, 2, tmp_path)
    assert "Ký bởi: Trần Văn Phó" in text and "Nguyễn Thị Hương" not in text


def test_an_old_snapshot_without_place_or_principal_falls_back(rendered, tmp_path):
    old = {"name": "Trường THCS Ánh Dương", "province": "Hà Nội"}
    assert appearance_for("HieuTruong", old) == SignatureAppearance(
        layout="block", title="HIỆU TRƯỞNG", school=old["name"], place="Hà Nội"
    )
    signed = sign_field(rendered, signer("Lê Văn Nam"), "HieuTruong", school=old)
    assert "Hà Nội, ngày 31 tháng 5 năm 2027" in page_text(signed, 2, tmp_path)


def test_visible_fields_signed_without_an_appearance_still_name_the_signers(
    rendered, tmp_path, pki, pki_person_signer, pki_seal_signer
):
    signed = rendered
    for field in FIELDS:
        holder = pki_seal_signer if field == "DauTruong" else pki_person_signer
        signed = sign_pdf(signed, holder, field_name=field, reason="Ký", location="HN")
    text = page_text(signed, 2, tmp_path)
    assert text.count(f"Ký bởi: {PKI_PERSON}") == 2 and "TRƯỜNG THCS ÁNH DƯƠNG" in text
    assert re.search(r"Ngày \d\d tháng \d{1,2} năm \d{4}", text)  # the principal's block
    assert all(f["signed"] for f in fields_of(signed).values())
    assert all(s.bottom_line for s in pyhanko_statuses(signed, pki))


def test_without_a_field_the_signature_is_invisible_and_locked(pki_pdf, pki_person_signer):
    signed = sign_pdf(pki_pdf, pki_person_signer, field_name="GVCN", reason="Ký", location="HN")
    reader = PdfFileReader(io.BytesIO(signed), strict=False)
    (field,) = [ref.get_object() for ref in reader.root["/AcroForm"]["/Fields"]]
    assert [float(v) for v in field["/Rect"]] == [0, 0, 0, 0]
    assert reader.embedded_signatures[0].fieldmdp.action == FieldMDPAction.INCLUDE


def test_a_signed_field_cannot_be_signed_again(rendered, pki_person_signer):
    signed = sign_field(rendered, pki_person_signer, "GVCN")
    with pytest.raises(SigningError, match="filled already"):
        sign_field(signed, pki_person_signer, "GVCN")


@pytest.mark.parametrize(
    ("when", "line"),
    [
        (datetime.date(2027, 5, 31), "Hà Nội, ngày 31 tháng 5 năm 2027"),
        (datetime.date(2027, 1, 5), "Hà Nội, ngày 05 tháng 01 năm 2027"),
        (datetime.date(2026, 12, 9), "Hà Nội, ngày 09 tháng 12 năm 2026"),
    ],
)
def test_the_date_line_follows_decree_30(when, line):
    assert date_line("Hà Nội", when) == line
    assert date_line("", when) == "N" + line.removeprefix("Hà Nội, n")


# --- locks: a later revision may not change a signed field ---------------------------------------


def _redraw(pdf: bytes, field_name: str) -> bytes:
    """An incremental update that replaces a field's appearance (a forged signature box)."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    for ref in writer.root["/AcroForm"]["/Fields"]:
        field = ref.get_object()
        if field["/T"] == field_name:
            box = generic.ArrayObject(generic.NumberObject(n) for n in (0, 0, 9, 9))
            stream = generic.StreamObject(
                {"/Subtype": generic.NameObject("/Form"), "/BBox": box},
                stream_data=b"0 0 9 9 re f",
            )
            field["/AP"] = generic.DictionaryObject({"/N": writer.add_object(stream)})
            writer.update_container(field)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_changing_a_signed_field_later_invalidates_its_signature(
    rendered, pki, pki_person_signer, pki_seal_signer
):
    signed = sign_field(rendered, pki_person_signer, "GVCN")
    forged = _redraw(signed, "GVCN")
    (status,) = pyhanko_statuses(forged, pki)
    assert status.intact and not status.bottom_line and status.docmdp_ok is False
    # while the later signers' fields stay free: the principal and the seal sign after it
    later = sign_field(
        sign_field(signed, signer("Lê Văn Nam"), "HieuTruong"), pki_seal_signer, "DauTruong"
    )
    assert pyhanko_statuses(later, pki)[0].docmdp_ok is True


# --- the whole signing path ----------------------------------------------------------------------


def test_the_signing_pipeline_fills_the_rendered_fields(
    transcript, homeroom, principal, role_signers, pki, pki_nssdb, tmp_path
):
    version = confirm_ready(actor=homeroom, transcript=transcript)
    sign_all(transcript, homeroom, principal, role_signers)
    version.refresh_from_db()
    pdf = stored(version.pdf_file)
    assert_pdf_signatures(pdf, 3, pki_nssdb, tmp_path)
    assert all(s.bottom_line and s.docmdp_ok for s in pyhanko_statuses(pdf, pki))
    fields = fields_of(pdf)
    assert set(fields) == set(FIELDS) and all(f["signed"] for f in fields.values())
    text = page_text(pdf, 2, tmp_path)
    assert "Ký bởi: homeroom" in text and "Ký bởi: principal" in text
    assert "TRƯỜNG THCS ÁNH DƯƠNG" in text
    assert re.search(r"Ngày \d\d tháng \d{1,2} năm \d{4}", text)  # no place in the test school


def test_each_stage_keeps_the_earlier_signatures_valid(
    transcript, homeroom, principal, role_signers, pki
):
    confirm_ready(actor=homeroom, transcript=transcript)
    for count, (role, actor) in enumerate(actors(homeroom, principal).items(), start=1):
        sign_version(actor=actor, transcript=transcript, role=role, signer=role_signers[role])
        pdf = stored(transcript.current_version.pdf_file)
        statuses = pyhanko_statuses(pdf, pki)
        assert len(statuses) == count and all(s.bottom_line for s in statuses), role
    assert transcript.is_signed_as(SignerRole.SEAL)


# --- kept with the results: two pages ------------------------------------------------------------

#: The demo's longest comments (gradebook/demo.py) and a long teacher's name.
LONG_COMMENT = max((c for cs in SUBJECT_COMMENTS.values() for c in cs), key=len)
LONG_REMARK = max((c for cs in HOMEROOM_COMMENTS.values() for c in cs), key=len)
LONG_NAME = "Nguyễn Thị Phương Thảo"


def full_year(snapshot: dict, subjects: int = 14) -> dict:
    """The demo's longest secondary transcript: ``subjects`` subjects with every result (and a
    re-assessment), the longest comment and a long teacher's name each, an adjusted level with
    its footnote, the longest homeroom remark."""
    long = copy.deepcopy(snapshot)
    rows = long["subjects"]
    extra = ["Hoạt động trải nghiệm, hướng nghiệp", "Nội dung giáo dục của địa phương",
             "Ngoại ngữ 2", "Tin học ứng dụng"]  # fmt: skip
    while len(rows) < subjects:
        row = copy.deepcopy(rows[len(rows) % len(snapshot["subjects"])])
        row["code"], row["name"] = f"X{len(rows)}", extra[len(rows) % len(extra)]
        rows.append(row)
    for row in rows:
        row["term2"] = row["term2"] or row["term1"]  # a demo year still in progress
        row["year"] = row["year"] or row["term1"]
        row["comment"] = LONG_COMMENT
        row["teacher_name"] = LONG_NAME
        if row.get("assessment") == "score":
            row["reassessment"] = {"value": "6.5", "display": "6,5"}
    level = dict(long["learning"]["year"] or long["learning"]["term1"])
    level |= {
        "name": "Khá",
        "display": "K",
        "value": "K",
        "unadjusted": "T",
        "adjusted_for": "TOAN",
    }
    long["learning"]["year"] = level
    long["learning"]["reassessed"] = dict(level, adjusted_for=None)
    long["homeroom_comment"] = LONG_REMARK
    return long


def test_a_full_secondary_year_fits_on_two_pages_with_the_blocks_on_the_results_page(
    bình,  # noqa: F811
    class_a,
    tmp_path,
):
    pdf = render(full_year(build_snapshot(bình, class_a.year)))
    path = tmp_path / "long.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout
    assert re.search(r"^Pages:\s+2$", info, re.M), info
    assert {f["page"] for f in fields_of(pdf).values()} == {1}
    results = page_text(pdf, 2, tmp_path)
    assert "GIÁO VIÊN CHỦ NHIỆM" in results and "HIỆU TRƯỞNG" in results
    assert results.count(LONG_COMMENT) >= 14


def test_a_primary_transcript_gets_the_fields_too(grade4_class, tmp_path):  # noqa: F811
    student = grade4_class.enrollments.get().student
    primary_year(grade4_class, student, tests={"TV": "9"})
    pdf = render(build_snapshot(student, grade4_class.year))
    assert {name: f["page"] for name, f in fields_of(pdf).items()} == dict.fromkeys(FIELDS, 1)
