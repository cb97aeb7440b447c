"""Visible signatures on the học bạ: the empty signature fields at the official places, and what
each field shows once its signer has signed.

**Fields.** When a transcript is rendered (:mod:`transcripts.render`), three empty signature
fields are added to its PDF/A-3b, as an incremental update of what WeasyPrint wrote, at the boxes
of ``templates/transcripts/_signatures.html`` on the results page:

- ``GVCN`` (homeroom teacher): the box between "GIÁO VIÊN CHỦ NHIỆM" and the printed name;
- ``HieuTruong`` (principal): the whole block, from the place-and-date line above
  "HIỆU TRƯỞNG" to the name under the signature, so that the appearance carries both;
- ``DauTruong`` (school seal): over the left part of the principal's signature, as a seal is
  pressed over a hand signature (Decree 30/2020/NĐ-CP, Appendix I).

**Locks.** Each field carries a FieldMDP lock naming itself and the fields signed before it
(:func:`field_lock`): once signed, a later revision that changes one of them invalidates the
signature, while the later signers' fields and the long-term validation data (DSS, document
time-stamps) stay free. Nothing certifies (DocMDP): a certification signature must be a
document's first, and "no changes" would forbid the later signatures and the archive
time-stamps.

**Appearances.** :class:`SignatureAppearance` says what a field shows (who, for which school,
where); :func:`stamp_style` turns it, with the signer's name from the certificate and the time of
signing, into a pyHanko stamp style that ``prepare_pdf`` uses. The time is the preparation's (the
appearance is part of what is signed, fixed before the value is asked for). Text uses the bundled
Noto Serif faces (Vietnamese glyphs), embedded as subsets: the file stays PDF/A.

Vertical slots of the principal's block (:data:`DATE_SLOT_PT`, :data:`STAMP_SLOT_PT`,
:data:`NAME_SLOT_PT`) are the heights of ``.sig-date``, ``.sig-stamp`` and ``.sig-name`` in
``static/css/hoc_ba.css``; a test holds the two equal.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import hashlib
import io
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeAlias
from zoneinfo import ZoneInfo

from cryptography import x509
from cryptography.x509.oid import NameOID
from fontTools import subset
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.content import ResourceType
from pyhanko.pdf_utils.font.opentype import GlyphAccumulator
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.layout import BoxConstraints
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import BasePdfFileWriter
from pyhanko.sign import fields
from pyhanko.stamp import BaseStamp, BaseStampStyle

from transcripts.signing.certificates import normalise_name

# fontTools logs every table it prunes while pyHanko subsets a font (INFO): ten lines a signature.
logging.getLogger("fontTools.subset").setLevel(logging.WARNING)

FONTS = Path(__file__).resolve().parents[2] / "static" / "fonts"
VIETNAM = "Asia/Ho_Chi_Minh"

HOMEROOM_FIELD, PRINCIPAL_FIELD, SEAL_FIELD = "GVCN", "HieuTruong", "DauTruong"
#: The order in which the fields are signed: each lock names its field and the earlier ones.
FIELD_ORDER = (HOMEROOM_FIELD, PRINCIPAL_FIELD, SEAL_FIELD)

#: Heights (pt) of the principal's block's slots, top to bottom: the place-and-date line, then
#: (after the title and the hint, printed by the page) the signature and the printed name.
DATE_SLOT_PT = 13.0
STAMP_SLOT_PT = 42.0
NAME_SLOT_PT = 14.0
#: Horizontal spans, as fractions of the principal's block width: the principal's signature
#: frame, and the seal over its left part (the text of the signature starts right of the seal).
PRINCIPAL_FRAME = (0.14, 0.86)
SEAL_SPAN = (0.0, 0.40)

#: An RGB colour, each component in [0, 1].
Colour: TypeAlias = tuple[float, float, float]
#: A line of text in a stamp: the font face (Noto Serif's "Regular", "Bold", "Italic"), the text
#: and the font size in points.
_Line: TypeAlias = tuple[str, str, float]

BLUE: Colour = (0.04, 0.2, 0.55)  # a signature's colour
RED: Colour = (0.8, 0.07, 0.07)  # a seal's colour
BLACK: Colour = (0.0, 0.0, 0.0)
#: A text line's height, and its baseline above the line's bottom, in font sizes (Noto Serif;
#: room for Vietnamese stacked diacritics above capitals).
LEADING, DESCENT = 1.22, 0.27


# --- fields --------------------------------------------------------------------------------------


def field_lock(name: str) -> fields.FieldMDPSpec:
    """The FieldMDP lock of field ``name``: itself and the fields signed before it."""
    earlier = FIELD_ORDER[: FIELD_ORDER.index(name) + 1] if name in FIELD_ORDER else (name,)
    return fields.FieldMDPSpec(fields.FieldMDPAction.INCLUDE, fields=list(earlier))


@dataclasses.dataclass(frozen=True)
class FieldBox:
    """Where an empty signature field goes: ``page`` (0-based) and ``box`` (x1, y1, x2, y2) in
    PDF points from the page's bottom left corner."""

    name: str
    page: int
    box: tuple[float, float, float, float]


def seal_box(stamp: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """The seal's box over the principal's signature slot ``stamp`` (see :data:`SEAL_SPAN`)."""
    x1, y1, x2, y2 = stamp
    width = x2 - x1
    return (x1 + SEAL_SPAN[0] * width, y1, x1 + SEAL_SPAN[1] * width, y2)


class _FieldWriter(IncrementalPdfFileWriter):
    """An incremental writer that adds the fields and nothing else: the new document ID is
    derived from the file, not random, and the metadata (Info, XMP with the PDF/A
    identification) stay WeasyPrint's instead of being stamped with pyHanko's producer and the
    time. The same rendered PDF gets the same fields, byte for byte."""

    @classmethod
    def _handle_id(cls, prev: PdfFileReader) -> generic.ArrayObject:
        prev.stream.seek(0)
        digest = hashlib.sha256(prev.stream.read()).digest()
        try:
            prev.trailer["/ID"]
        except KeyError:  # a file without an ID (WeasyPrint writes one for PDF/A)
            first = generic.ByteStringObject(digest[16:])
        else:  # the original ID stays first (ISO 32000 §14.4); pyHanko reads it
            first = super()._handle_id(prev)[0]  # type: ignore[no-untyped-call]  # pyHanko's
        return generic.ArrayObject([first, generic.ByteStringObject(digest[:16])])

    def _update_meta(self) -> None:
        pass


def add_signature_fields(pdf: bytes, boxes: Sequence[FieldBox]) -> bytes:
    """``pdf`` with an empty, visible, printable signature field per box (locked as
    :func:`field_lock` says), added as an incremental update: what WeasyPrint wrote stays as it
    was, PDF/A-3b included. Empty appearances: the page shows what is printed under them."""
    if not boxes:
        return pdf
    writer = _FieldWriter(io.BytesIO(pdf), strict=False)
    for field in boxes:
        fields.append_signature_field(
            writer,
            fields.SigFieldSpec(
                field.name,
                on_page=field.page,
                box=tuple(round(value, 2) for value in field.box),  # type: ignore[arg-type]  # pyHanko says int, takes float
                field_mdp_spec=field_lock(field.name),
            ),
        )
    output = io.BytesIO()
    writer.write(output)  # type: ignore[no-untyped-call]  # unannotated in pyHanko
    return output.getvalue()


# --- appearances ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SignatureAppearance:
    """What a signature field shows besides "Ký bởi: <the certificate's name>" and the time.

    ``layout``: ``"stamp"`` fills the field with a framed text stamp; ``"block"`` (the
    principal) also writes the place-and-date line in the top slot and the printed name in the
    bottom one; ``"seal"`` draws the school's red seal-like frame. ``name`` is the name printed
    under a block's signature, used when it is the certificate holder's (compared without case
    or diacritics: certificates often carry ASCII capitals); otherwise the certificate's."""

    layout: str = "stamp"
    title: str = ""
    school: str = ""
    place: str = ""
    name: str = ""
    time_zone: str = VIETNAM


#: Per field: its layout and the title in the stamp (the official form's words).
_ROLES = {
    HOMEROOM_FIELD: ("stamp", "GIÁO VIÊN CHỦ NHIỆM"),
    PRINCIPAL_FIELD: ("block", "HIỆU TRƯỞNG"),
    SEAL_FIELD: ("seal", ""),
}


def appearance_for(field_name: str, school: Mapping[str, str]) -> SignatureAppearance:
    """The appearance of a transcript's field, from its snapshot's ``school`` (older snapshots
    have no ``place_name`` / ``principal_name``: the province, and the certificate's name)."""
    layout, title = _ROLES.get(field_name, ("stamp", ""))
    return SignatureAppearance(
        layout=layout,
        title=title,
        school=school.get("name", ""),
        place=school.get("place_name") or school.get("province", ""),
        name=school.get("principal_name", "") if layout == "block" else "",
    )


def common_name(certificate: x509.Certificate) -> str:
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else certificate.subject.rfc4514_string()


def date_line(place: str, when: datetime.date) -> str:
    """The place-and-date line, e.g. "Hà Nội, ngày 05 tháng 01 năm 2027": a day below 10 and
    the months 1 and 2 with a leading zero (Decree 30/2020/NĐ-CP, Appendix I)."""
    day = f"{when.day:02d}"
    month = f"{when.month:02d}" if when.month <= 2 else str(when.month)
    words = f"ngày {day} tháng {month} năm {when.year}"
    return f"{place}, {words}" if place else words[0].upper() + words[1:]


def stamp_style(
    appearance: SignatureAppearance, *, signer: str, signed_at: datetime.datetime
) -> BaseStampStyle:
    """The pyHanko stamp style that draws ``appearance`` for ``signer`` at ``signed_at``."""
    return _HocBaStampStyle(
        appearance=appearance,
        signer=signer,
        signed_at=signed_at.astimezone(ZoneInfo(appearance.time_zone)),
    )


@dataclasses.dataclass(frozen=True)
class _HocBaStampStyle(BaseStampStyle):
    appearance: SignatureAppearance = SignatureAppearance()
    signer: str = ""
    signed_at: datetime.datetime = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
    border_width: int = 0

    def create_stamp(
        self, writer: BasePdfFileWriter, box: BoxConstraints, text_params: dict[str, Any]
    ) -> BaseStamp:
        return _HocBaStamp(writer, self, box)


@functools.cache
def _font_bytes(face: str) -> bytes:
    return (FONTS / f"NotoSerif-{face}.vi.ttf").read_bytes()


class _Font(GlyphAccumulator):
    """pyHanko's embedded-subset font engine, subsetting about 40 times faster: the layout
    tables (GSUB, GPOS, GDEF), which pyHanko leaves out of the embedded subset anyway, are
    removed before fontTools would decompile them all (~170 ms per face and signature).
    HarfBuzz still shapes with them."""

    def _extract_subset(self, options: subset.Options | None = None) -> None:
        for tag in ("GSUB", "GPOS", "GDEF"):
            if tag in self.tt:
                del self.tt[tag]
        super()._extract_subset(options)


class _HocBaStamp(BaseStamp):
    """Draws the appearance: text lines centred and shrunk to fit, frames, in PDF operators."""

    style: _HocBaStampStyle

    def __init__(
        self, writer: BasePdfFileWriter, style: _HocBaStampStyle, box: BoxConstraints
    ) -> None:
        super().__init__(writer, style, box)
        self._engines: dict[str, _Font] = {}

    def render(self) -> bytes:
        appearance = self.style.appearance
        width, height = self.box.width, self.box.height
        if appearance.layout == "seal":
            return b" ".join(self._seal(width, height))
        if appearance.layout == "block":
            return b" ".join(self._block(width, height))
        return b" ".join(self._person(0, 0, width, height, text_from=0))

    # -- pieces --

    def _person(
        self, x1: float, y1: float, x2: float, y2: float, *, text_from: float
    ) -> list[bytes]:
        """A signer's framed stamp in (x1, y1)-(x2, y2), its text right of ``text_from``."""
        style, appearance = self.style, self.style.appearance
        time = style.signed_at.strftime("%d/%m/%Y %H:%M")
        lines: list[_Line] = [("Bold", f"Ký bởi: {style.signer}", 7.5)]
        lines += [("Regular", text, 6.5) for text in (appearance.title, appearance.school) if text]
        lines.append(("Regular", f"Thời gian ký: {time}", 6.5))
        ops = [_frame(x1 + 0.5, y1 + 0.5, x2 - 0.5, y2 - 0.5, colour=BLUE, width=0.7)]
        left = max(x1, text_from) + 3
        ops += self._lines(lines, left=left, right=x2 - 3, bottom=y1, top=y2, colour=BLUE)
        return ops

    def _block(self, width: float, height: float) -> list[bytes]:
        """The principal's block: date line, signature (right of the seal), printed name."""
        style, appearance = self.style, self.style.appearance
        date = date_line(appearance.place, style.signed_at)
        ops = self._lines(
            [("Italic", date, 9.5)],
            left=0,
            right=width,
            bottom=height - DATE_SLOT_PT,
            top=height,
            colour=BLACK,
        )
        bottom = NAME_SLOT_PT + 1.5
        top = NAME_SLOT_PT + STAMP_SLOT_PT - 1.5
        frame_left, frame_right = (fraction * width for fraction in PRINCIPAL_FRAME)
        ops += self._person(
            frame_left, bottom, frame_right, top, text_from=SEAL_SPAN[1] * width + 1
        )
        name = appearance.name
        if not name or normalise_name(name) != normalise_name(style.signer):
            name = style.signer
        ops += self._lines(
            [("Bold", name, 10.5)], left=0, right=width, bottom=0, top=NAME_SLOT_PT, colour=BLACK
        )
        return ops

    def _seal(self, width: float, height: float) -> list[bytes]:
        """A seal-like double red frame with the school's name and the time of signing."""
        style = self.style
        school = (style.appearance.school or style.signer).upper()
        time = style.signed_at.strftime("%d/%m/%Y %H:%M:%S %z")
        time = f"{time[:-2]}:{time[-2:]}"  # +0700 → +07:00 (ISO 8601)
        ops = [  # filled: the seal lies over the left of the principal's signature, as on paper
            _frame(0.8, 0.8, width - 0.8, height - 0.8, colour=RED, width=1.4, radius=5, fill=True),
            _frame(3, 3, width - 3, height - 3, colour=RED, width=0.5, radius=3.5),
        ]
        names = self._wrap("Bold", school, 7.5, width - 10)
        lines: list[_Line] = [("Bold", line, 7.5) for line in names] + [("Regular", time, 6.5)]
        ops += self._lines(lines, left=5, right=width - 5, bottom=3, top=height - 3, colour=RED)
        return ops

    # -- text --

    def _engine(self, face: str) -> tuple[str, _Font]:
        name = f"HB{face}"
        if face not in self._engines:
            engine = _Font(self._ensure_writer, io.BytesIO(_font_bytes(face)), font_size=10)
            self._engines[face] = engine
            self.set_resource(ResourceType.FONT, pdf_name(f"/{name}"), engine.as_resource())
        return name, self._engines[face]

    def _width(self, face: str, text: str, size: float) -> float:
        _name, engine = self._engine(face)
        engine.font_size = size  # type: ignore[assignment]  # pyHanko annotates int, scales by any
        return engine.shape(text, with_actual_text=False).x_advance * size

    def _wrap(self, face: str, text: str, size: float, width: float) -> list[str]:
        """``text`` on one line, or on two split at the space that balances them best when one
        line would have to shrink."""
        words = text.split()
        if len(words) < 2 or self._width(face, text, size) <= width:
            return [text]
        splits = [(" ".join(words[:i]), " ".join(words[i:])) for i in range(1, len(words))]
        return list(min(splits, key=lambda pair: max(self._width(face, p, size) for p in pair)))

    def _lines(
        self,
        lines: Sequence[_Line],
        *,
        left: float,
        right: float,
        bottom: float,
        top: float,
        colour: Colour,
    ) -> list[bytes]:
        """Each (face, text, size) line centred between ``left`` and ``right`` (shrunk to fit),
        the lines together centred between ``bottom`` and ``top``."""
        fitted: list[_Line] = []
        for face, text, size in lines:
            natural = self._width(face, text, size)
            if natural > right - left:
                size *= (right - left) / natural
            fitted.append((face, text, size))
        y = (bottom + top + sum(LEADING * size for _f, _t, size in fitted)) / 2
        ops = []
        for face, text, size in fitted:
            y -= LEADING * size
            name, engine = self._engine(face)
            engine.font_size = size  # type: ignore[assignment]  # see _width
            shaped = engine.shape(text)
            x = (left + right - shaped.x_advance * size) / 2
            ops.append(
                b"BT /%s %g Tf %g %g %g rg 1 0 0 1 %g %g Tm %s ET"
                % (name.encode(), round(size, 3), *colour, round(x, 2),
                   round(y + DESCENT * size, 2), shaped.graphics_ops)
            )  # fmt: skip
        return ops


def _frame(
    x1: float,
    y1: float,
    x2: float,
    y2: float,
    *,
    colour: Colour,
    width: float,
    radius: float = 2.5,
    fill: bool = False,
) -> bytes:
    """A stroked rectangle with rounded corners, filled white with ``fill``."""
    k = radius * 0.4477  # 1 - 0.5523: Bézier handles of a quarter circle
    path = [
        b"%g %g m" % (x1 + radius, y1),
        b"%g %g l" % (x2 - radius, y1),
        b"%g %g %g %g %g %g c" % (x2 - k, y1, x2, y1 + k, x2, y1 + radius),
        b"%g %g l" % (x2, y2 - radius),
        b"%g %g %g %g %g %g c" % (x2, y2 - k, x2 - k, y2, x2 - radius, y2),
        b"%g %g l" % (x1 + radius, y2),
        b"%g %g %g %g %g %g c" % (x1 + k, y2, x1, y2 - k, x1, y2 - radius),
        b"%g %g l" % (x1, y1 + radius),
        b"%g %g %g %g %g %g c" % (x1, y1 + k, x1 + k, y1, x1 + radius, y1),
    ]
    paint = b"1 1 1 rg B" if fill else b"S"
    return b"q %g %g %g RG %g w %s %s Q" % (*colour, width, b" ".join(path), paint)
