"""Time saving gradebook cells one after the other through `gradebook:cell_save`.

    DEBUG=1 .venv/bin/python bench/cell_save.py --students 45 --repeat 50

Each save is the grid's autosave request: POST JSON {student, column, value, version} to the
subject book's cell URL (the class and subject are in the URL), with the version the previous
answer returned. Saves cycle through the students and the term I score columns, each changing
the cell's value, so every save writes the mark and appends one ledger event. Prints the median
and p95 latency and the SQL queries per save; with --url, also over HTTP (same database).
"""

from __future__ import annotations

import json
import secrets
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import arguments, bench_class, environment, setup_django, summary


def main() -> int:
    args = arguments(__doc__.splitlines()[0]).parse_args()
    setup_django(args.database_url)
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import NoReverseMatch, reverse

    bench = bench_class(args.students, args.class_pk)
    try:
        url = reverse("gradebook:cell_save", kwargs=bench.kwargs)
    except NoReverseMatch:
        print("gradebook:cell_save does not exist yet: nothing to time.")
        return 2
    cells = _cells(bench)
    client = Client(HTTP_HOST="localhost")
    client.force_login(bench.teacher)
    print(environment())
    print(f"POST {url} — class {bench.class_group.name}, {bench.subject}, {len(cells)} cells")

    def save(index: int) -> dict:
        body = _next_body(cells, index)
        response = client.post(url, json.dumps(body), content_type="application/json")
        if response.status_code != 200:
            raise SystemExit(f"Save refused ({response.status_code}): {response.content[:300]!r}")
        return _remember(cells, body, response.json())

    for index in range(args.warmup):
        save(index)
    seconds, queries = [], []
    for index in range(args.warmup, args.warmup + args.repeat):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            save(index)
            seconds.append(time.perf_counter() - started)
        queries.append(len(captured.captured_queries))
    print(summary("test client", seconds, queries))
    if args.url:
        session = client.cookies[settings.SESSION_COOKIE_NAME].value
        print(summary("http", _over_http(args.url.rstrip("/") + url, session, cells, args)))
    return 0


def _cells(bench: object) -> list[dict]:
    """Every term I score cell of the book: student, column key, current value and version."""
    from gradebook.columns import subject_columns
    from gradebook.models import Mark

    entry = bench.class_group.year.curriculum.get(
        grade=bench.class_group.grade, subject=bench.subject
    )
    columns = [c for c in subject_columns(entry, bench.term) if c.value_type in ("score", "pass")]
    students = list(
        bench.class_group.enrollments.filter(left_on__isnull=True)
        .order_by("roll_number")
        .values_list("student_id", flat=True)
    )
    marks = {
        (m.student_id, m.kind, m.slot): m
        for m in Mark.objects.filter(
            year=bench.class_group.year, term=bench.term, subject=bench.subject
        )
    }
    cells = []
    for column in columns:
        for student in students:
            mark = marks.get((student, column.kind, column.slot))
            value, version = (mark.value, mark.version) if mark else ("", 0)
            cells.append(
                {"student": student, "column": column.key, "value": value, "version": version}
            )
    return cells


def _next_body(cells: list[dict], index: int) -> dict:
    cell = cells[index % len(cells)]
    value = "D" if cell["value"] == "CD" else "CD" if cell["value"] == "D" else None
    if value is None:
        value = "7" if cell["value"] == "8" else "8"
    return {**cell, "value": value}


def _remember(cells: list[dict], body: dict, answer: dict) -> dict:
    for cell in cells:
        if cell["student"] == body["student"] and cell["column"] == body["column"]:
            cell["value"], cell["version"] = answer["value"], answer["version"]
    return answer


def _over_http(url: str, session: str, cells: list[dict], args: object) -> list[float]:
    """Same saves over HTTP: a CSRF secret of our own in the cookie and the header."""
    from django.conf import settings

    csrf = secrets.token_hex(16)  # 32 characters: an unmasked CSRF secret
    headers = {
        "Cookie": f"{settings.SESSION_COOKIE_NAME}={session}; {settings.CSRF_COOKIE_NAME}={csrf}",
        "X-CSRFToken": csrf,
        "Content-Type": "application/json",
    }
    seconds = []
    for index in range(args.warmup + args.repeat):
        body = _next_body(cells, index)
        request = urllib.request.Request(  # noqa: S310 — the URL is the user's
            url, data=json.dumps(body).encode(), headers=headers, method="POST"
        )
        started = time.perf_counter()
        with urllib.request.urlopen(request) as response:  # noqa: S310
            if response.geturl() != url:
                raise SystemExit(f"Redirected to {response.geturl()}: same database as the server?")
            answer = json.loads(response.read())
        if index >= args.warmup:
            seconds.append(time.perf_counter() - started)
        _remember(cells, body, answer)
    return seconds


if __name__ == "__main__":
    sys.exit(main())
