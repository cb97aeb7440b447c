"""Time exporting a package of a large school's final transcripts, and verifying it.

    DEBUG=1 .venv/bin/python bench/export.py --prepare   # once, slow (~15 min for 2,000)
    DEBUG=1 .venv/bin/python bench/export.py

Works on its own database and media root (default PostgreSQL `sodiem_bench_export`, created if
missing, and /tmp/sodiem-bench-export-media), never on the checkout's. `--prepare` (idempotent)
migrates, runs `seed_demo --students N` (the large demo school), `demo_pki` and
`demo_sign_all` for that school, and reports how many transcripts are final. The timed step
runs the real export (`start_export(..., enqueue=False)` then `run_export`, as
`manage.py export_transcripts` does) in a fresh subprocess, then `verify_package` on the
result in another, and prints each one's wall time and peak RSS, the package's size and
count, and the throughput.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, setup_django

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/sodiem_bench_export"
DEFAULT_MEDIA_ROOT = "/tmp/sodiem-bench-export-media"  # noqa: S108 — a benchmark's scratch
DEMO_PASSWORD = "demo-ky-so"  # noqa: S105 — the demo certificates' and seal's, public
TARGET_SECONDS, TARGET_MIB = 60, 500


def arguments() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=DEFAULT_DATABASE_URL,
        help=f"benchmark database (default {DEFAULT_DATABASE_URL}; created if missing)",
    )
    parser.add_argument("--media-root", default=DEFAULT_MEDIA_ROOT, help="benchmark MEDIA_ROOT")
    parser.add_argument("--students", type=int, default=2000, help="large school's size")
    parser.add_argument(
        "--prepare", action="store_true", help="seed, issue certificates, sign (slow, untimed)"
    )
    parser.add_argument("--no-verify", action="store_true", help="skip timing verify_package")
    parser.add_argument(
        "--profile",
        type=Path,
        help="write a pyinstrument HTML profile of the export to this file (slower)",
    )
    parser.add_argument("--child", choices=["export", "verify"], help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--package", type=Path, help=argparse.SUPPRESS)
    return parser


def configure(args: argparse.Namespace) -> None:
    """The environment of every step: the benchmark's database, media and trust anchor."""
    media = Path(args.media_root)
    os.environ["DATABASE_URL"] = args.database_url
    os.environ["MEDIA_ROOT"] = str(media)
    os.environ["DEBUG"] = "1"
    os.environ["SIGNING_TRUST_ANCHORS"] = str(media / "demo-pki" / "demo-ca.pem")


def create_database(url: str) -> None:
    """Create the PostgreSQL database of `url` if it does not exist (SQLite needs nothing)."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        return
    import psycopg
    from psycopg import sql

    name = parts.path.lstrip("/")
    with psycopg.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username,
        password=parts.password,
        dbname="postgres",
        autocommit=True,
    ) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if not exists.fetchone():
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"Created database {name}.")


# --- preparation (untimed) -------------------------------------------------------------------


def prepare(args: argparse.Namespace) -> int:
    create_database(args.database_url)
    Path(args.media_root).mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    setup_django(args.database_url)
    from django.core.management import call_command

    import gradebook.management.commands.seed_demo as seed_command
    from schools.demo import LARGE_CODE

    # seed_demo writes the demo logins next to the checkout's code; keep ours in the media root
    seed_command.LOGINS_FILE = Path(args.media_root) / ".demo-logins.txt"
    steps: list[tuple[str, float]] = [("migrate", time.perf_counter() - started)]

    def step(label: str, *command: str, **options: object) -> None:
        print(f"--- {label}", flush=True)
        begun = time.perf_counter()
        call_command(*command, **options)
        steps.append((label, time.perf_counter() - begun))
        print(f"--- {label}: {steps[-1][1]:.1f} s", flush=True)

    step(f"seed_demo --students {args.students}", "seed_demo", students=args.students,
         password=DEMO_PASSWORD)  # fmt: skip
    step("demo_pki", "demo_pki", password=DEMO_PASSWORD, schools=[LARGE_CODE])
    final, students = final_count(LARGE_CODE)
    if final < students:
        step("demo_sign_all", "demo_sign_all", password=DEMO_PASSWORD, schools=[LARGE_CODE])
    else:
        print(f"--- demo_sign_all skipped: {final} of {students} transcripts already final")
    final, students = final_count(LARGE_CODE)
    for label, seconds in steps:
        print(f"prepare {label}: {seconds:.1f} s")
    print(f"prepare total: {time.perf_counter() - started:.1f} s")
    print(f"{LARGE_CODE}: {final} of {students} current students have a final transcript")
    return 0 if final else 1


def final_count(code: str) -> tuple[int, int]:
    """(final transcripts, current students) of the school's current year."""
    from schools.models import Enrollment, School
    from transcripts.models import State, Transcript

    school = School.objects.get(code=code)
    year = school.current_year()
    students = (
        Enrollment.objects.current()
        .filter(class_group__year=year)
        .values("student_id")
        .distinct()
        .count()
    )
    final = Transcript.objects.filter(school=school, year=year, state=State.FINAL).count()
    return final, students


# --- the timed steps, each in a fresh process ------------------------------------------------


def child_export(args: argparse.Namespace) -> dict[str, object]:
    setup_django(args.database_url)
    from django.db import connection

    from schools.demo import LARGE_CODE
    from schools.models import School
    from transcripts.models import JobStatus, PackageKind, TranscriptPackage
    from transcripts.packages.exports import run_export, start_export

    school = School.objects.get(code=LARGE_CODE)
    year = school.current_year()
    _remove_earlier_packages(school)
    queries = 0

    def count(execute, sql, params, many, context):  # Django's execute_wrapper signature
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    profiler = None
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler()
    rss_before = _max_rss_kib()
    with connection.execute_wrapper(count):
        if profiler:
            profiler.start()
        started = time.perf_counter()
        package = start_export(
            actor=None,
            school=school,
            year=year,
            kind=PackageKind.FULL,
            secret=DEMO_PASSWORD,
            only_final=True,
            enqueue=False,
        )
        checked = time.perf_counter()
        run_export(package.pk)
        finished = time.perf_counter()
        if profiler:
            profiler.stop()
            args.profile.write_text(profiler.output_html(), encoding="utf-8")
    package = TranscriptPackage.objects.get(pk=package.pk)
    if package.status != JobStatus.FINISHED:
        raise SystemExit(f"Export failed: {package.message} {package.failures[:3]}")
    return {
        "start_seconds": checked - started,
        "run_seconds": finished - checked,
        "seconds": finished - started,
        "queries": queries,
        "rss_before_kib": rss_before,
        "peak_kib": _max_rss_kib(),
        "final": package.final_count,
        "left_out": package.left_out_count,
        "size": package.size,
        "path": package.file.path,
        "package_id": str(package.package_id),
        "environment": _environment(),
    }


def _remove_earlier_packages(school: object) -> None:
    """Earlier runs' packages (rows and files) of the benchmark database, so the media root
    does not grow by a package per run."""
    from transcripts.models import TranscriptPackage

    for package in TranscriptPackage.objects.filter(school=school):
        if package.file:
            package.file.delete(save=False)
        package.delete()


def child_verify(args: argparse.Namespace) -> dict[str, object]:
    setup_django(args.database_url)
    from transcripts.packages.verify import verify_package

    rss_before = _max_rss_kib()
    started = time.perf_counter()
    report = verify_package(args.package)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "rss_before_kib": rss_before,
        "peak_kib": _max_rss_kib(),
        "ok": report.ok,
        "problems": [str(problem) for problem in report.problems[:5]],
        "transcripts": report.transcripts_checked,
        "files": report.files_checked,
    }


def _max_rss_kib() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def _environment() -> str:
    from django.db import connection

    return (
        f"database={connection.vendor} ({connection.settings_dict['NAME']}) "
        f"python={sys.version.split()[0]} cpus={os.cpu_count()}"
    )


def run_child(args: argparse.Namespace, kind: str, *extra: str) -> tuple[dict, float, int]:
    """Run one timed step in a fresh interpreter: (its result, wall seconds of the whole
    process, its peak RSS in KiB as the kernel reports it to the parent)."""
    with tempfile.TemporaryDirectory(prefix="sodiem-bench-") as scratch:
        result = Path(scratch) / "result.json"
        command = [sys.executable, __file__, "--child", kind, "--result", str(result),
                   "--database-url", args.database_url, "--media-root", args.media_root,
                   *extra]  # fmt: skip
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=ROOT)  # noqa: S603 — our own script
        _pid, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            raise SystemExit(f"The {kind} step failed (exit status {process.returncode}).")
        return json.loads(result.read_text(encoding="utf-8")), wall, usage.ru_maxrss


def main() -> int:
    args = arguments().parse_args()
    configure(args)
    if args.child:
        outcome = child_export(args) if args.child == "export" else child_verify(args)
        args.result.write_text(json.dumps(outcome), encoding="utf-8")
        return 0
    if args.prepare:
        return prepare(args)
    extra = ["--profile", str(args.profile.resolve())] if args.profile else []
    export, wall, peak = run_child(args, "export", *extra)
    mib = peak / 1024
    size_mb = export["size"] / 1_000_000
    print(export["environment"] + f" media={args.media_root}")
    print(
        f"export: {export['final']} final transcripts ({export['left_out']} left out), "
        f"package {size_mb:.1f} MB ({export['size']} bytes), id {export['package_id']}"
    )
    print(
        f"export: wall={export['seconds']:.1f} s (checks and seal {export['start_seconds']:.1f} s, "
        f"build {export['run_seconds']:.1f} s; process {wall:.1f} s) "
        f"peak RSS={mib:.0f} MiB (after set-up {export['rss_before_kib'] / 1024:.0f} MiB) "
        f"queries={export['queries']}"
    )
    print(
        f"export: {export['final'] / export['seconds']:.0f} transcripts/s, "
        f"{size_mb / export['seconds']:.1f} MB/s — target ≤ {TARGET_SECONDS} s: "
        f"{'met' if export['seconds'] <= TARGET_SECONDS else 'MISSED'}, ≤ {TARGET_MIB} MiB: "
        f"{'met' if mib <= TARGET_MIB else 'MISSED'}"
    )
    if args.no_verify:
        return 0
    verify, wall, peak = run_child(args, "verify", "--package", export["path"])
    print(
        f"verify_package: {'OK' if verify['ok'] else 'FAILED'} {verify['transcripts']} "
        f"transcripts, {verify['files']} files; wall={verify['seconds']:.1f} s "
        f"(process {wall:.1f} s) peak RSS={peak / 1024:.0f} MiB "
        f"(after set-up {verify['rss_before_kib'] / 1024:.0f} MiB), "
        f"{verify['transcripts'] / verify['seconds']:.0f} transcripts/s, "
        f"{size_mb / verify['seconds']:.1f} MB/s"
    )
    for problem in verify["problems"]:
        print(f"  FAILED {problem}")
    return 0 if verify["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
