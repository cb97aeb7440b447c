"""Render a transcript snapshot to a PDF/A-3b file that carries its XML as an attachment.

The HTML follows the official học bạ layouts (Circular 22 for grades 6-12, Circular 27 for
grades 1-5): page 1 is the identity page, page 2 the year's results with the homeroom teacher's
and the principal's signature areas. Every page carries, in its bottom margin, a QR code and a
short verification code pointing to the public verification page.

Only the bundled Noto Serif fonts (static/fonts/, pre-subset to the Vietnamese range, with the
full regular face as fallback) are used; the font configuration and the stylesheet are built
once per process, since rendering happens in long-lived workers.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path
from typing import Any

import segno
from django.conf import settings
from django.template.loader import render_to_string
from weasyprint import CSS, HTML, Attachment
from weasyprint.document import Document
from weasyprint.text.fonts import FontConfiguration

from transcripts.signing.appearance import FieldBox, add_signature_fields, seal_box
from transcripts.snapshot import Snapshot, printable, word

STYLESHEET = Path(settings.BASE_DIR) / "static" / "css" / "hoc_ba.css"
PDF_VARIANT = "pdf/a-3b"
XML_NAME = "hocba.xml"
PERIODS = ("term1", "term2", "year", "reassessed")


@cache
def font_config() -> FontConfiguration:
    return FontConfiguration()


@cache
def stylesheet() -> CSS:
    """hoc_ba.css with its @font-face rules, parsed once per process."""
    return CSS(filename=str(STYLESHEET), font_config=font_config())


def qr_data_uri(url: str) -> str:
    """The verification URL as an SVG QR code (error correction M) in a data URI."""
    return segno.make(url, error="m", micro=False).svg_data_uri(scale=4, border=0)


def _level_title(grade: int) -> str:
    if grade <= 5:
        return "TIỂU HỌC"
    return "TRUNG HỌC CƠ SỞ" if grade <= 9 else "TRUNG HỌC PHỔ THÔNG"


def _secondary_context(snapshot: Snapshot) -> dict[str, Any]:
    rows = []
    notes = []
    for label, block in (
        ("Rèn luyện", snapshot["conduct"]),
        ("Học tập", snapshot["learning"]),
    ):
        cells = []
        for key in PERIODS:
            shown = block[key]
            text = shown["name"] if shown else ""
            if shown and shown.get("adjusted_for"):
                text += "*"
                subject = next(
                    (s["name"] for s in snapshot["subjects"] if s["code"] == shown["adjusted_for"]),
                    shown["adjusted_for"],
                )
                notes.append(
                    f"Mức {shown['name']} được điều chỉnh từ mức {word(shown['unadjusted'])} "
                    f"do kết quả môn {subject} (khoản 3 Điều 9 Thông tư 22)."
                )
            cells.append(text)
        rows.append((label, cells))
    absences = snapshot["absences"]
    return {
        "results_title": "RÈN LUYỆN VÀ HỌC TẬP",
        "level_rows": rows,
        "adjustment_notes": notes,
        "absences_excused": absences["term1_excused"] + absences["term2_excused"],
        "absences_unexcused": absences["term1_unexcused"] + absences["term2_unexcused"],
    }


#: Circular 27's general competencies (năng lực chung) come first in the snapshot; the rest are
#: the specific ones (năng lực đặc thù).
GENERAL_COMPETENCIES = 3


def _primary_context(snapshot: Snapshot) -> dict[str, Any]:
    """The qualities, general and specific competencies side by side, one row per line."""
    groups = (
        snapshot["qualities"],
        snapshot["competencies"][:GENERAL_COMPETENCIES],
        snapshot["competencies"][GENERAL_COMPETENCIES:],
    )
    rows = [
        tuple(group[i] if i < len(group) else {} for group in groups)
        for i in range(max(len(group) for group in groups))
    ]
    return {"results_title": "GIÁO DỤC", "quality_rows": rows}


def transcript_html(snapshot: Snapshot, *, verification_code: str, verification_url: str) -> str:
    """The transcript as HTML (also usable as an on-screen preview with hoc_ba.css). A snapshot
    stored by an earlier release is printed with defaults for the keys it lacks."""
    snapshot = printable(snapshot)
    primary = snapshot["kind"] == "primary"
    context = {
        "s": snapshot,
        "level_title": _level_title(snapshot["class"]["grade"]),
        "sign_year": snapshot["year"]["start_year"] + 1,
        "verification_code": verification_code,
        "verification_url": verification_url,
        "qr_data_uri": qr_data_uri(verification_url),
        **(_primary_context(snapshot) if primary else _secondary_context(snapshot)),
    }
    template = "transcripts/hoc_ba_primary.html" if primary else "transcripts/hoc_ba_secondary.html"
    return render_to_string(template, context)


def html_to_pdf(
    html: str, *, xml_bytes: bytes, stylesheets: list[CSS] | None = None, fonts=None
) -> bytes:
    """PDF/A-3b from ``html`` with ``xml_bytes`` attached as hocba.xml (relationship Data)."""
    attachment = Attachment(
        file_obj=io.BytesIO(xml_bytes),
        name=XML_NAME,
        description="Dữ liệu học bạ (XML, urn:sodiem:hocba:1)",
        relationship="Data",
    )
    options = {
        "stylesheets": stylesheets if stylesheets is not None else [stylesheet()],
        "pdf_variant": PDF_VARIANT,
        "attachments": [attachment],
    }
    html_document = HTML(string=html, base_url=str(STYLESHEET.parent))
    document = html_document.render(font_config=fonts or font_config(), **options)
    return add_signature_fields(document.write_pdf(**options), signature_field_boxes(document))


#: CSS px (WeasyPrint's layout unit) to PDF points.
PX_TO_PT = 0.75


def signature_field_boxes(document: Document) -> list[FieldBox]:
    """Where the empty signature fields go, found in WeasyPrint's layout: the border box of
    each element with ``data-signature-field`` (its value is the field's name), and the seal's
    over the element with ``data-signature-seal`` (:func:`appearance.seal_box`), in PDF points
    from the page's bottom left corner (templates/transcripts/_signatures.html)."""
    found: dict[str, FieldBox] = {}
    for number, page in enumerate(document.pages):
        seen = set()
        for box in page._page_box.descendants():
            element = getattr(box, "element", None)
            if element is None or id(element) in seen or not hasattr(box, "border_box_x"):
                continue
            seen.add(id(element))  # anonymous boxes share their parent's element: first only
            field, seal = element.get("data-signature-field"), element.get("data-signature-seal")
            if not field and not seal:
                continue
            x, y = box.border_box_x(), box.border_box_y()
            rect = (
                x * PX_TO_PT,
                (page.height - y - box.border_height()) * PX_TO_PT,
                (x + box.border_width()) * PX_TO_PT,
                (page.height - y) * PX_TO_PT,
            )
            if field:
                found.setdefault(field, FieldBox(field, number, rect))
            if seal:
                found.setdefault(seal, FieldBox(seal, number, seal_box(rect)))
    return list(found.values())


def render_transcript_pdf(
    snapshot: Snapshot, *, xml_bytes: bytes, verification_code: str, verification_url: str
) -> bytes:
    """The transcript version's PDF/A-3b: the printed pages plus its XML as an attachment."""
    html = transcript_html(
        snapshot, verification_code=verification_code, verification_url=verification_url
    )
    return html_to_pdf(html, xml_bytes=xml_bytes)
