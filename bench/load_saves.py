"""Cell saves under load: N concurrent teachers, each saving marks in their own class through the
real HTTP endpoint of a running server (sessions from the real login form, CSRF), then a check
that every acknowledged save is in the database and in the ledger exactly once.

    # the production stack (make serve-prod, here on port 8100), then:
    SECRET_KEY="$(cat .prod-secret-key)" DEBUG=1 .venv/bin/python bench/load_saves.py \\
        --url http://127.0.0.1:8100 --database-url postgres://postgres@127.0.0.1:5432/sodiem_prod \\
        --teachers 50 --rate 300 --duration 30

Set-up (through the ORM, on --database-url, which must be the server's database): a school
`LOAD` (lower secondary, current year) with one class of --students students per teacher, each
with a full term I of marks (written through the ledger), and teachers `load.t01`… assigned
to Mathematics in their class, with a password of this run. Built once, reused.

The load: every teacher logs in through the login form (GET for the CSRF cookie, POST the
credentials), then saves cells of term I of their own class, one request at a time, each
changing the cell (8 ↔ 7), with the version the previous answer returned — the grid's autosave
request. `--rate R` spreads R saves/s over the teachers (open loop: a teacher whose save is
late sends the next at once); `--rate 0` sends as fast as answers come (closed loop: the
throughput ceiling). The first --warmup seconds are not counted.

Prints throughput (saves/s), median / p95 / p99 / max latency, errors by kind; then the
integrity check: every acknowledged (200) save is the cell's ledger event with that version,
value and teacher — exactly one — and the mark holds the last acknowledged value; the school's
ledger chain verifies. Exit 1 if any save failed or the check finds a difference. Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cell_save
from common import Bench, _add_students, bench_school, environment, setup_django
from yarl import URL

LOAD_SCHOOL = "LOAD"
#: The load teachers' password and their sessions, kept between runs: logging 50 teachers in
#: again every run would meet the login rate limit (30 a minute from one address).
PASSWORD = Path(tempfile.gettempdir()) / "sodiem-load-password"
SESSIONS = Path(tempfile.gettempdir()) / "sodiem-load-sessions.json"
SUBJECT = "TOAN"


@dataclass
class Teacher:
    username: str
    class_pk: int
    url: str  # the cell-save URL of their book
    cells: list[dict]  # student, column, value, version
    acks: list[tuple[int, str, str, int]] = field(default_factory=list)
    latencies: list[tuple[float, float]] = field(default_factory=list)  # (sent at, seconds)
    errors: Counter = field(default_factory=Counter)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--url", required=True, help="the running server, e.g. http://127.0.0.1:8100"
    )
    parser.add_argument("--database-url", required=True, help="the server's database")
    parser.add_argument("--teachers", type=int, default=50)
    parser.add_argument("--students", type=int, default=45)
    parser.add_argument("--rate", type=float, default=300, help="saves/s in all; 0 = flat out")
    parser.add_argument("--duration", type=float, default=30, help="seconds measured")
    parser.add_argument("--warmup", type=float, default=5, help="seconds first, not counted")
    return parser.parse_args()


def prepare(teachers: int, students: int, password: str, *, new_password: bool) -> list[Teacher]:
    from django.db import transaction
    from django.urls import reverse

    from accounts.models import Membership, Role, User
    from gradebook.demo import seed_class_marks
    from schools.models import ClassGroup, TeachingAssignment

    school = bench_school(LOAD_SCHOOL, "Trường THCS Tải thử")
    year = school.current_year()
    subject = school.subjects.get(code=SUBJECT)
    result = []
    built = 0
    for index in range(1, teachers + 1):
        with transaction.atomic():
            user, created = User.objects.get_or_create(
                username=f"load.t{index:02d}", defaults={"full_name": f"Giáo viên Tải {index:02d}"}
            )
            if created or new_password:  # (checking 50 passwords would take 20 s of CPU)
                user.set_password(password)
                user.save(update_fields=["password"])
            Membership.objects.get_or_create(user=user, school=school, role=Role.TEACHER)
            class_group, new = ClassGroup.objects.get_or_create(
                year=year, name=f"L{index:02d}", defaults={"grade": 6 + (index - 1) % 4}
            )
            TeachingAssignment.objects.get_or_create(
                teacher=user, class_group=class_group, subject=subject
            )
            if new:
                _add_students(class_group, students)
        built += seed_class_marks(class_group, terms=(1,))
        kwargs = {"code": school.code, "class_pk": class_group.pk, "subject_pk": subject.pk}
        result.append(
            Teacher(
                user.username,
                class_group.pk,
                reverse("gradebook:cell_save", kwargs=kwargs),
                cell_save._cells(Bench(class_group, subject, user)),
            )
        )
    if built:
        print(f"Built {teachers} classes of {students} students ({built} marks of term I).")
    return result


async def log_in(session, base: str, username: str, password: str) -> str:
    """The real login form; returns the CSRF token (the cookie the grid's script reads)."""
    async with session.get(f"{base}/accounts/login/") as response:
        page = await response.text()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = {"csrfmiddlewaretoken": token, "login": username, "password": password}
    for _attempt in range(10):
        async with session.post(
            f"{base}/accounts/login/",
            data=form,
            headers={"Referer": f"{base}/accounts/login/"},
            allow_redirects=False,
        ) as response:
            if response.status == 302:
                break
            if response.status != 429:
                raise SystemExit(f"login of {username} failed: HTTP {response.status}")
        # allauth allows 30 logins a minute from one address: wait, as a school behind one
        # public address would (the sessions are kept for the next runs: SESSIONS)
        print(f"  {username}: login rate limit, waiting 20 s")
        await asyncio.sleep(20)
    else:
        raise SystemExit(f"login of {username} failed: rate-limited")
    cookie = session.cookie_jar.filter_cookies(URL(base)).get("csrftoken")
    return cookie.value


async def run_load(teachers, base, password, rate, warmup, duration, snapshot):
    """Log every teacher in first (password hashing is slow by design), then start the clock
    for all; returns (when counting starts, when it ends) on the loop's clock."""
    import aiohttp

    loop = asyncio.get_running_loop()
    interval = len(teachers) / rate if rate else 0.0
    sessions = []
    saved = json.loads(SESSIONS.read_text()) if SESSIONS.exists() else {}
    for teacher in teachers:
        jar = aiohttp.CookieJar(unsafe=True)
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1), cookie_jar=jar)
        cookies = saved.get(f"{base} {teacher.username}")
        if cookies:
            jar.update_cookies(cookies, URL(base))
            async with session.get(f"{base}/accounts/password/change/", allow_redirects=False) as r:
                if r.status != 200:  # the session expired or the password changed: log in
                    cookies = None
        csrf = (
            cookies["csrftoken"]
            if cookies
            else await log_in(session, base, teacher.username, password)
        )
        saved[f"{base} {teacher.username}"] = cookies = {c.key: c.value for c in jar}
        await session.close()
        sessions.append((teacher, Connection(base, cookies, csrf)))
    SESSIONS.write_text(json.dumps(saved))
    begin = loop.time() + 0.2
    end = begin + warmup + duration
    snapshot["before"] = snapshot["take"]()
    await asyncio.gather(
        *(save_loop(t, connection, base, interval, begin, end) for t, connection in sessions)
    )
    snapshot["after"] = snapshot["take"]()
    for _, connection in sessions:
        connection.close()
    return begin + warmup, end


class Connection:
    """A minimal HTTP/1.1 client for the saves: the same request the grid's script sends
    (session and CSRF cookies, the CSRF header, JSON), over a kept-alive connection where the
    server keeps it (gthread workers) and a new one per request where it closes it (sync
    workers). It exists because the load generator shares the machine's two cores with the
    server: aiohttp spent 1.1 ms of CPU per save, this about a third of that."""

    def __init__(self, base: str, cookies: dict[str, str], csrf: str) -> None:
        parts = urlsplit(base)
        self.host, self.port = parts.hostname, parts.port or 80
        cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
        self.head = (
            f"Host: {parts.netloc}\r\nCookie: {cookie}\r\nX-CSRFToken: {csrf}\r\n"
            f"Referer: {base}/\r\nContent-Type: application/json\r\n"
        )
        self.streams = None

    async def post(self, path: str, body: dict) -> tuple[int, dict]:
        data = json.dumps(body).encode()
        request = (
            f"POST {path} HTTP/1.1\r\n{self.head}Content-Length: {len(data)}\r\n\r\n"
        ).encode() + data
        if self.streams is None:
            self.streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self.streams
        writer.write(request)
        status_line = await reader.readline()
        if not status_line:
            raise ConnectionError("closed by the server")
        length, close = 0, False
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "connection" and value.strip().lower() == "close":
                close = True
        payload = await reader.readexactly(length)
        if close:
            self.close()
        return int(status_line.split()[1]), json.loads(payload) if payload else {}

    def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()
            self.streams = None


async def save_loop(teacher, connection, base, interval, begin, end):
    loop = asyncio.get_running_loop()
    next_at = begin + (interval * secrets.randbelow(1000) / 1000 if interval else 0)
    index = secrets.randbelow(len(teacher.cells))
    path = urlsplit(base).path + teacher.url
    while True:
        now = loop.time()
        if interval and next_at > now:
            await asyncio.sleep(next_at - now)
            now = loop.time()
        if now >= end:
            return
        body = cell_save._next_body(teacher.cells, index)  # the cell, changed (8 ↔ 7)
        cell = teacher.cells[index % len(teacher.cells)]
        index += 1
        sent = loop.time()
        try:
            status, answer = await connection.post(path, body)
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            teacher.errors[type(exc).__name__] += 1
            connection.close()
            status, answer = 0, {}
        teacher.latencies.append((sent, loop.time() - sent))
        if status == 200:
            cell["value"], cell["version"] = answer["value"], answer["version"]
            teacher.acks.append(
                (cell["student"], cell["column"], answer["value"], answer["version"])
            )
        elif status:
            teacher.errors[f"HTTP {status}"] += 1
        next_at += interval


def ledger_position() -> int:
    """The school's last ledger sequence number: the check counts only events after it."""
    from django.db.models import Max

    from gradebook.models import MarkEvent

    return MarkEvent.objects.filter(school__code=LOAD_SCHOOL).aggregate(n=Max("seq"))["n"] or 0


def check(teachers: list[Teacher], after: int) -> list[str]:
    """Every acknowledged save is its cell's ledger event (version, value, teacher) exactly once,
    and each mark holds its last acknowledged value; the ledger chain verifies."""
    from accounts.models import User
    from gradebook.columns import subject_columns
    from gradebook.ledger import verify_chain
    from gradebook.models import Mark, MarkEvent
    from schools.models import ClassGroup, School

    school = School.objects.get(code=LOAD_SCHOOL)
    problems: list[str] = []
    for teacher in teachers:
        if not teacher.acks:
            continue
        class_group = ClassGroup.objects.get(pk=teacher.class_pk)
        subject = school.subjects.get(code=SUBJECT)
        entry = class_group.year.curriculum.get(grade=class_group.grade, subject=subject)
        keys = {c.key: (c.kind, c.slot) for c in subject_columns(entry, 1)}
        user = User.objects.get(username=teacher.username)
        marks = {
            (m.student_id, m.kind, m.slot): m
            for m in Mark.objects.filter(
                year=class_group.year,
                term=1,
                subject=subject,
                student_id__in={a[0] for a in teacher.acks},
            )
        }
        events = Counter(
            MarkEvent.objects.filter(
                school=school, seq__gt=after, mark__in=marks.values(), actor=user
            ).values_list("mark_id", "version", "new_value")
        )
        last = {}
        for student, column, value, version in teacher.acks:
            mark = marks.get((student, *keys[column]))
            if mark is None:
                problems.append(f"{teacher.username}: no mark for {student} {column}")
                continue
            found = events.get((mark.pk, version, value), 0)
            if found != 1:
                problems.append(
                    f"{teacher.username}: {student} {column} v{version}={value}: "
                    f"{found} ledger events"
                )
            last[mark.pk] = (mark, value, version)
        acked = Counter((marks[(s, *keys[c])].pk, v, val) for s, c, val, v in teacher.acks)
        extra = sum(events.values()) - sum(acked.values())
        if extra:
            problems.append(
                f"{teacher.username}: {extra} ledger events without an acknowledged save "
                "(a save that failed after writing, or a retry)"
            )
        for mark, value, version in last.values():
            if (mark.value, mark.version) != (value, version):
                problems.append(
                    f"{teacher.username}: mark {mark.pk} holds {mark.value!r} "
                    f"v{mark.version}, last acknowledged {value!r} v{version}"
                )
    problems += [f"ledger: {p}" for p in verify_chain(school)][:20]
    return problems


def cpu_seconds(database: str) -> dict[str, float]:
    """CPU time (user + system) used so far by the web workers (gunicorn), the PostgreSQL
    backends of the server's database and this load generator, from /proc: what the saves cost
    the machine, whatever the wall clock says."""
    tick = os.sysconf("SC_CLK_TCK")
    totals = {"gunicorn": 0.0, "postgres": 0.0}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if "gunicorn" in cmdline and "bench/" not in cmdline:
            name = "gunicorn"
        elif cmdline.startswith("postgres:") and f" {database} " in cmdline:
            name = "postgres"
        else:
            continue
        totals[name] += (int(fields[11]) + int(fields[12])) / tick
    own = os.times()
    totals["load generator"] = own.user + own.system
    return totals


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    args = arguments()
    setup_django(args.database_url)
    new_password = not PASSWORD.exists()
    if new_password:
        PASSWORD.write_text(secrets.token_urlsafe(12))
        PASSWORD.chmod(0o600)
    password = PASSWORD.read_text().strip()
    teachers = prepare(args.teachers, args.students, password, new_password=new_password)
    print(environment())
    print(
        f"server {args.url}: {args.teachers} teachers, each in their own class of "
        f"{args.students}; rate {'flat out' if not args.rate else f'{args.rate:g}/s'}, "
        f"{args.warmup:g} s warm-up + {args.duration:g} s measured"
    )
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    after = ledger_position()
    database = urlsplit(args.database_url).path.lstrip("/")
    cpu = {"take": lambda: (time.perf_counter(), cpu_seconds(database))}
    counted_from, _end = asyncio.run(
        run_load(
            teachers, args.url.rstrip("/"), password, args.rate, args.warmup, args.duration, cpu
        )
    )
    (started, cpu_before), (ended, cpu_after) = cpu["before"], cpu["after"]
    wall = ended - started
    measured = [took for t in teachers for sent, took in t.latencies if sent >= counted_from]
    acked = sum(len(t.acks) for t in teachers)
    errors = sum((t.errors for t in teachers), Counter())
    ms = [s * 1000 for s in measured]
    print(
        f"saves measured: {len(ms)} in {args.duration:g} s = {len(ms) / args.duration:.1f} saves/s "
        f"(acknowledged in the whole run: {acked})"
    )
    if ms:
        print(
            f"latency: median={statistics.median(ms):.1f} ms p95={pct(ms, 0.95):.1f} ms "
            f"p99={pct(ms, 0.99):.1f} ms max={max(ms):.1f} ms"
        )
    print(f"errors: {dict(errors) or 0}")
    requests = sum(len(t.latencies) for t in teachers)
    used = {name: cpu_after[name] - cpu_before[name] for name in cpu_after}
    print(
        f"CPU over the run ({wall:.1f} s wall, {os.cpu_count()} cores, {requests} requests): "
        + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in used.items())
        + f"; per request {1000 * sum(used.values()) / max(requests, 1):.2f} ms of CPU in all"
        + f"; the machine can do at most {os.cpu_count() * requests / sum(used.values()):.0f}"
        " saves/s at this cost"
    )
    problems = check(teachers, after)
    if problems:
        print(f"integrity: {len(problems)} problems")
        for line in problems[:30]:
            print(f"  {line}")
    else:
        print(
            f"integrity: all {acked} acknowledged saves are in the database and the ledger "
            "exactly once; the ledger chain verifies"
        )
    return 1 if problems or errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
