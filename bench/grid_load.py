"""Time loading one term of a subject gradebook grid (`gradebook:grid`) for a class, and the
grid's poll for other people's changes (`gradebook:grid_changes`, every 10 s while it is open).

    DEBUG=1 .venv/bin/python bench/grid_load.py --students 45 --repeat 50

Prints the median and p95 latency, the CPU time of this process per request (the test client
included: an upper bound of the server's share) and the SQL queries per request through
Django's test client, and, with --url, the latency over HTTP against a running server (same
database). The poll asks for the changes since the grid's own cursor: nothing new, the common
case.
"""

from __future__ import annotations

import statistics
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
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    bench = bench_class(args.students, args.class_pk)
    try:
        url = reverse("gradebook:grid", kwargs={**bench.kwargs, "term": bench.term})
    except NoReverseMatch:
        print("gradebook:grid does not exist yet: nothing to time.")
        return 2
    client = Client(HTTP_HOST="localhost")
    client.force_login(bench.teacher)
    students = bench.class_group.enrollments.count()
    print(environment())
    print(f"GET {url} — class {bench.class_group.name} ({students} students), {bench.subject}")
    changes_kwargs = {**bench.kwargs, "term": bench.term}
    response, line = _time(client, url, args)
    if response is None:
        return 1
    print(line + f" page={len(response.content) / 1024:.0f} KB")
    cursor = client.get(reverse("gradebook:grid_changes", kwargs=changes_kwargs)).json()["cursor"]
    poll = reverse("gradebook:grid_changes", kwargs=changes_kwargs) + f"?since={cursor}"
    print(f"GET {poll} (the grid's poll, nothing new)")
    response, line = _time(client, poll, args)
    if response is None:
        return 1
    print(line)
    if args.url:
        cookie = (
            f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
        )
        print(summary("http grid", _over_http(args.url.rstrip("/") + url, cookie, args)))
        print(summary("http poll", _over_http(args.url.rstrip("/") + poll, cookie, args)))
    return 0


def _time(client: object, url: str, args: object) -> tuple[object | None, str]:
    """The test client's figures for `url`: latency, CPU of this process, queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(args.warmup):
        client.get(url)
    seconds, cpu, queries = [], [], []
    for _ in range(args.repeat):
        with CaptureQueriesContext(connection) as captured:
            started, started_cpu = time.perf_counter(), time.process_time()
            response = client.get(url)
            seconds.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
        if response.status_code != 200:
            print(f"Unexpected status {response.status_code}")
            return None, ""
        queries.append(len(captured.captured_queries))
    cpu_ms = statistics.median(cpu) * 1000
    return response, summary("test client", seconds, queries) + f" cpu={cpu_ms:.1f} ms"


def _over_http(url: str, cookie: str, args: object) -> list[float]:
    request = urllib.request.Request(url, headers={"Cookie": cookie})  # noqa: S310
    seconds = []
    for index in range(args.warmup + args.repeat):
        started = time.perf_counter()
        with urllib.request.urlopen(request) as response:  # noqa: S310 — the URL is the user's
            response.read()
            if response.geturl() != url:
                raise SystemExit(f"Redirected to {response.geturl()}: same database as the server?")
        if index >= args.warmup:
            seconds.append(time.perf_counter() - started)
    return seconds


if __name__ == "__main__":
    sys.exit(main())
