"""Render one student's học bạ for a school year to a PDF file, from the dev database.

    DEBUG=1 .venv/bin/python scripts/render_sample.py /tmp/hocba.pdf [--student-code HS000001]
        [--year 2025] [--site-url http://localhost:8000] [--timing]

Without --student-code the first enrolled student of the first school's current year is used
(run ``make run`` or the demo seeding first). The PDF is PDF/A-3b with hocba.xml attached; the
verification code is a placeholder until transcripts get real codes.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from schools.models import Enrollment  # noqa: E402
from transcripts.render import render_transcript_pdf  # noqa: E402
from transcripts.snapshot import build_snapshot, snapshot_digest  # noqa: E402
from transcripts.xml import snapshot_to_xml, validate_xml  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description="Render a demo học bạ to PDF.")
    parser.add_argument("output", type=Path)
    parser.add_argument("--student-code")
    parser.add_argument("--year", type=int, help="starting year, default: the current year")
    parser.add_argument("--site-url", default="http://localhost:8000")
    parser.add_argument("--timing", action="store_true", help="render 5 more times, print s/doc")
    args = parser.parse_args()
    enrollments = Enrollment.objects.select_related("student", "class_group__year")
    if args.student_code:
        enrollments = enrollments.filter(student__student_code=args.student_code)
    if args.year:
        enrollments = enrollments.filter(class_group__year__start_year=args.year)
    else:
        enrollments = enrollments.filter(class_group__year__is_current=True)
    enrollment = enrollments.order_by("class_group__name", "roll_number").first()
    if enrollment is None:
        raise SystemExit("no matching enrolled student in the database")
    student, year = enrollment.student, enrollment.class_group.year
    snapshot = build_snapshot(student, year)
    xml = snapshot_to_xml(snapshot, transcript_id=f"SAMPLE-{student.pk}", version=1)
    validate_xml(xml)
    code = snapshot_digest(snapshot)[:8].upper()
    url = f"{args.site_url.rstrip('/')}/verify/{code}/"

    def render() -> bytes:
        return render_transcript_pdf(
            snapshot, xml_bytes=xml, verification_code=code, verification_url=url
        )

    args.output.write_bytes(render())
    print(f"{student.full_name} ({enrollment.class_group.name}, {year.name}) → {args.output}")
    if args.timing:
        start = time.perf_counter()
        for _ in range(5):
            render()
        print(f"{(time.perf_counter() - start) / 5:.3f} s per transcript (warm)")


if __name__ == "__main__":
    main()
