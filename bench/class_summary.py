"""Time the homeroom class summary, year view (`gradebook:class_summary?term=year`), for a class.

    DEBUG=1 .venv/bin/python bench/class_summary.py --students 45 --repeat 50

Prints the median and p95 latency and the SQL queries per request through Django's test client,
as the class's homeroom teacher; then the same computation without the request (the results,
then the table and charts), so compute and render can be told apart; with --url, the latency
over HTTP against a running server (same database); with --profile N, a pyinstrument profile of
N more requests.

The bench class (see common.py) gets a homeroom teacher (`bench.homeroom`) and a full term II of
marks on top of its term I, so the year has a result for every student.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import arguments, bench_class, environment, setup_django, summary
from grid_load import _over_http

PERIOD = "year"


def main() -> int:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="then profile N more requests with pyinstrument and print the profile",
    )
    args = parser.parse_args()
    setup_django(args.database_url)
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import NoReverseMatch, reverse

    bench = bench_class(args.students, args.class_pk)
    class_group = bench.class_group
    if args.class_pk is None:
        _complete_year(class_group)
    if class_group.homeroom_teacher is None:
        print(f"Class {class_group.name} has no homeroom teacher: nothing to time.")
        return 2
    try:
        url = reverse(
            "gradebook:class_summary",
            kwargs={"code": class_group.year.school.code, "class_pk": class_group.pk},
        )
    except NoReverseMatch:
        print("gradebook:class_summary does not exist: nothing to time.")
        return 2
    url += f"?term={PERIOD}"
    client = Client(HTTP_HOST="localhost")
    client.force_login(class_group.homeroom_teacher)
    _mfa_met(client, class_group.homeroom_teacher)
    print(environment())
    print(
        f"GET {url} — class {class_group.name} ({_completeness(class_group)}), "
        f"as homeroom teacher {class_group.homeroom_teacher.username}"
    )
    for _ in range(args.warmup):
        client.get(url)
    seconds, queries, sql, size = [], [], [], 0
    for _ in range(args.repeat):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            seconds.append(time.perf_counter() - started)
        if response.status_code != 200:
            print(f"Unexpected status {response.status_code}")
            return 1
        queries.append(len(captured.captured_queries))
        sql.append(_sql_seconds(captured))
        size = len(response.content)
    print(summary("test client", seconds, queries) + f" sql={_ms(sql)} page={size / 1024:.0f} KB")
    _time_compute(class_group.pk, args)
    if args.url:
        cookie = (
            f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
        )
        print(summary("http", _over_http(args.url.rstrip("/") + url, cookie, args)))
    if args.profile:
        _profile(client, url, args.profile)
    return 0


def _mfa_met(client, user) -> None:
    """A homeroom teacher signs, so RequireMfaForSignersMiddleware sends one without TOTP to its
    set-up; mark the session as past that check, as it is for the rest of a real session."""
    from schools.middleware import SESSION_KEY

    session = client.session
    user.refresh_from_db(fields=["roles_version"])
    session[SESSION_KEY] = user.roles_version
    session.save()


def _complete_year(class_group) -> None:
    """Give the bench class a homeroom teacher and term II marks (once; reused later)."""
    from django.db import transaction

    from accounts.models import Membership, Role, User
    from gradebook.demo import seed_class_marks

    with transaction.atomic():
        if class_group.homeroom_teacher is None:
            teacher, _ = User.objects.get_or_create(
                username="bench.homeroom", defaults={"full_name": "Chủ nhiệm Benchmark"}
            )
            Membership.objects.get_or_create(
                user=teacher, school=class_group.year.school, role=Role.TEACHER
            )
            class_group.homeroom_teacher = teacher
            class_group.save(update_fields=["homeroom_teacher"])
    written = seed_class_marks(class_group, terms=(2,))
    if written:
        print(f"Completed class {class_group.name}: {written} marks (term II).")


def _completeness(class_group) -> str:
    """How many students have a year result: the year figures mean little without them."""
    from gradebook.results import class_results

    results = class_results(class_group)
    complete = sum(1 for s in results.students if _year_result(s) is not None)
    return (
        f"{len(results.students)} students, {len(results.subjects)} subjects, "
        f"year result for {complete}/{len(results.students)}"
    )


def _year_result(student) -> object:
    return student.year_result if student.primary else student.learning_year


def _time_compute(class_pk: int, args: object) -> None:
    """What the view computes, without the request: the class's results (its queries included),
    then the summary table and the charts; the rest of a request is access checks, the template
    and the middleware."""
    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import translation

    from gradebook import charts
    from gradebook.results import class_results
    from gradebook.summary import summary_table
    from schools.models import ClassGroup

    loaded, built, queries, sql = [], [], [], []
    with translation.override(settings.LANGUAGE_CODE):
        for index in range(args.warmup + args.repeat):
            class_group = ClassGroup.objects.select_related(
                "year", "year__school", "homeroom_teacher"
            ).get(pk=class_pk)
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                results = class_results(class_group)
                middle = time.perf_counter()
                summary_table(results, PERIOD)
                charts.class_charts(results, PERIOD)
                ended = time.perf_counter()
            if index >= args.warmup:
                loaded.append(middle - started)
                built.append(ended - middle)
                queries.append(len(captured.captured_queries))
                sql.append(_sql_seconds(captured))
    print(summary("class_results (load + compute)", loaded, queries) + f" sql={_ms(sql)}")
    print(summary("summary_table + class_charts", built))


def _sql_seconds(captured) -> float:
    """Time the database wrapper logged for the captured queries (DEBUG is on)."""
    return sum(float(query["time"]) for query in captured.captured_queries)


def _ms(seconds: list[float]) -> str:
    return f"{statistics.median(seconds) * 1000:.1f} ms (median)"


def _profile(client, url: str, requests: int) -> None:
    try:
        from pyinstrument import Profiler
    except ImportError:
        print("pyinstrument is not installed: no profile.")
        return
    profiler = Profiler()
    with profiler:
        for _ in range(requests):
            client.get(url)
    print(f"Profile of {requests} requests:")
    print(profiler.output_text(unicode=True, color=False, show_all=False))


if __name__ == "__main__":
    sys.exit(main())
