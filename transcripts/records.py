"""The multi-year học bạ of a student: the years of the school's level in order, this school's
own transcripts (their current version) and the years received from other schools with a
transfer (:mod:`transcripts.transfers`), each kept with its own signatures and verification code.

The learning history table (quá trình học tập) is filled from these years. The gathered PDF
(:func:`record_pdf`) is a reading copy: a generated cover with that table, then each year's
signed pages drawn unchanged as page images of the signed files; a PDF signature does not
survive being merged, so the signed originals stay downloadable one by one
(docs/transcript-layout.md, "The multi-year học bạ").
"""

from __future__ import annotations

import dataclasses
import io
from typing import Any

from django.db.models import Prefetch
from django.template.loader import render_to_string

from gradebook.rules.explain import LEVEL_NAMES_VI
from schools.models import School, Student
from transcripts.models import ReceivedDocument, SignerRole, State, Transcript, TranscriptVersion


@dataclasses.dataclass(frozen=True)
class RecordYear:
    """One year of the record, from this school (``transcript``) or received (``received``)."""

    year_label: str
    grade: int
    class_name: str
    school_name: str
    school_code: str
    learning: str
    conduct: str
    promotion: str
    verification_code: str
    signed: bool
    signers: list[tuple[str, str]]
    transcript: Transcript | None = None
    version: TranscriptVersion | None = None
    received: ReceivedDocument | None = None

    @property
    def is_received(self) -> bool:
        return self.received is not None


def _level(shown: dict[str, Any] | None) -> str:
    return shown["name"] if shown else ""


def _own_year(school: School, transcript: Transcript) -> RecordYear:
    versions = list(transcript.versions.all())
    version = versions[-1] if versions else None
    snapshot = version.snapshot if version else {}
    promotion = snapshot.get("promotion") or {}
    signed = transcript.state == State.FINAL and version is not None
    roles = dict(SignerRole.choices)
    return RecordYear(
        year_label=transcript.year.name,
        grade=transcript.class_group.grade,
        class_name=transcript.class_group.name,
        school_name=school.name,
        school_code=school.code,
        learning=_level((snapshot.get("learning") or {}).get("year")),
        conduct=_level((snapshot.get("conduct") or {}).get("year")),
        promotion=promotion.get("display", ""),
        verification_code=version.verification_code if version else "",
        signed=signed,
        signers=[
            (str(roles.get(s.role, s.role)), s.signed_by.display_name)
            for s in (version.signatures.all() if version else [])
        ],
        transcript=transcript,
        version=version,
    )


def _received_year(document: ReceivedDocument) -> RecordYear:
    roles = dict(SignerRole.choices)
    return RecordYear(
        year_label=document.year_label,
        grade=document.grade,
        class_name=document.class_name,
        school_name=document.source_school_name,
        school_code=document.source_school_code,
        learning=LEVEL_NAMES_VI.get(document.results.get("learning", ""), ""),
        conduct=LEVEL_NAMES_VI.get(document.results.get("conduct", ""), ""),
        promotion=document.results.get("promotion", ""),
        verification_code=document.verification_code,
        signed=True,
        signers=[(str(roles.get(role, role)), name) for role, name, _subject in document.signers],
        received=document,
    )


def student_record(*, school: School, student: Student) -> list[RecordYear]:
    """The level's years of ``student`` at ``school`` in order (school year, then grade): a
    fixed number of queries whatever the number of years."""
    current = TranscriptVersion.objects.filter(superseded_at__isnull=True).order_by("number")
    transcripts = (
        Transcript.objects.filter(school=school, student=student)
        .select_related("year", "class_group")
        .prefetch_related(
            Prefetch(
                "versions",
                queryset=current.prefetch_related("signatures__signed_by"),
            )
        )
    )
    years = [_own_year(school, transcript) for transcript in transcripts]
    received = ReceivedDocument.objects.filter(school=school, student=student).order_by(
        "year_label", "grade", "-version"
    )
    seen: set[str] = set()
    for document in received:  # the newest version received of each transcript
        if str(document.transcript_id) not in seen:
            seen.add(str(document.transcript_id))
            years.append(_received_year(document))
    grades = school.grades
    return sorted(
        (year for year in years if year.grade in grades), key=lambda y: (y.year_label, y.grade)
    )


def record_html(*, school: School, student: Student, years: list[RecordYear]) -> str:
    return render_to_string(
        "transcripts/record_print.html", {"school": school, "student": student, "years": years}
    )


def _signed_pdf(year: RecordYear) -> bytes | None:
    field = year.received.pdf_file if year.received else (year.version and year.version.pdf_file)
    if not field or not (year.signed or year.is_received):
        return None
    with field.open("rb") as handle:
        return handle.read()


def record_pdf(*, school: School, student: Student, years: list[RecordYear]) -> bytes:
    """The reading copy: the cover with the learning history, then every signed year's pages as
    they were signed (drawn from the signed file, which keeps its verification code and QR in
    the margin); the signatures themselves are checked on the signed files."""
    from weasyprint import HTML

    from transcripts.render import STYLESHEET, font_config, stylesheet

    cover = HTML(
        string=record_html(school=school, student=student, years=years),
        base_url=str(STYLESHEET.parent),
    ).write_pdf(stylesheets=[stylesheet()], font_config=font_config())
    parts = [cover] + [pdf for pdf in (_signed_pdf(year) for year in years) if pdf]
    return concatenate(parts)


def concatenate(pdfs: list[bytes]) -> bytes:
    """The pages of ``pdfs`` one after the other, each source page drawn unchanged (as a form
    XObject) with its signature appearances flattened onto it."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.content import RawContent
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter

    writer = PdfFileWriter()
    for data in pdfs:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        for index in range(reader.root["/Pages"]["/Count"]):
            page = reader.find_page_for_modification(index)[0].get_object()
            box = [float(v) for v in page["/MediaBox"]]
            resources = generic.DictionaryObject({generic.NameObject("/XObject"):
                                                  generic.DictionaryObject()})  # fmt: skip
            xobjects = resources["/XObject"]
            xobjects[generic.NameObject("/P0")] = writer.import_page_as_xobject(reader, index)
            ops = ["q /P0 Do Q"]
            for n, (rect, appearance) in enumerate(_appearances(page)):
                name = f"/A{n}"
                xobjects[generic.NameObject(name)] = writer.import_object(appearance)
                ops.append(f"q 1 0 0 1 {rect[0]:.3f} {rect[1]:.3f} cm {name} Do Q")
            content = RawContent("\n".join(ops).encode())
            stream = writer.add_object(generic.StreamObject(stream_data=content.render()))
            new_page = PageObject(
                contents=stream,
                media_box=generic.ArrayObject(generic.FloatObject(v) for v in box),
                resources=writer.add_object(resources),
            )
            writer.insert_page(new_page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _appearances(page) -> list[tuple[list[float], Any]]:
    """The normal appearance stream and rectangle of each signature widget on ``page``."""
    found = []
    for annotation in page.get("/Annots", []):
        widget = annotation.get_object()
        appearance = widget.get("/AP", {}).get("/N") if "/AP" in widget else None
        if widget.get("/Subtype") != "/Widget" or appearance is None:
            continue
        rect = [float(v) for v in widget["/Rect"]]
        found.append(([min(rect[0], rect[2]), min(rect[1], rect[3])], widget.raw_get("/AP")
                      .get_object().raw_get("/N")))  # fmt: skip
    return found
