"""Time rendering and signing a batch of transcripts through the real job path, against a bare
WeasyPrint render of the same HTML, with one worker process and with two.

    DEBUG=1 .venv/bin/python bench/render_sign.py --prepare         # once (seed, PKI), untimed
    DEBUG=1 .venv/bin/python bench/render_sign.py --documents 200   # the run; repeatable

Works on its own database and media root (default PostgreSQL `sodiem_bench_render`, created if
missing, and /tmp/sodiem-bench-render-media), never on the checkout's. `--prepare` (idempotent)
migrates, runs `seed_demo --students N` (the large demo school, 01009999), `demo_pki` for it
and creates the draft transcript of every current student, reporting how many are complete.

A run, each timed step in fresh worker processes (started, set up and warmed up with one
untimed render and signature, then released together; peak RSS from the kernel, `wait4`):

1. pipeline, 1 worker: the first N transcripts (by class, then id) go through the jobs a
   school runs: per class, the homeroom teacher's job `[confirm, homeroom]` (snapshot, render
   the PDF/A-3b and XML, PAdES + XAdES signature), then the principal's job
   `[principal, seal]`; each is `transcripts.jobs.start_job(...)` followed by `run_job(pk)`
   in the worker (the `db` task backend only records the task; nobody else runs it).
2. bare WeasyPrint, 1 worker: the HTML of the versions just produced (`transcript_html` of
   their snapshots and verification codes, built untimed) rendered with the same stylesheet
   and font configuration: `HTML(string=...).render(...)` then `.write_pdf()`, which is what
   `HTML.write_pdf` does, no PDF/A variant, no attachment, no signature, no database.
3. the same two with the documents split in two halves, one per worker process.
4. (`--font-documents`, default 50, 0 to skip) the first documents rendered bare with other
   fonts or options, to show what the PDF/A variant and font subsetting cost.

Where the pipeline's time goes: in the timed pipeline worker, the steps of the job path are
wrapped with timers (see SPLIT_POINTS; a call nested in another is charged to the inner one
only) and every SQL query and commit is timed, so each document's wall time splits into the
render step (year results, snapshot, XML, HTML, WeasyPrint's PDF/A-3), the signatures (PAdES
and XAdES, with their count, so the cost of one), SQL (queries and commits), the certificates
(opened per job, checked per signature), the stored files, and the rest (the ORM's own time,
job bookkeeping). The render step is then set against the bare render of the same documents.

Re-running: before each pipeline step the chosen transcripts are put back to draft through
the workflow, as a school would: a final one is reopened by the principal (its version is
superseded, so confirming makes and renders a new version), one left half-way by an
interrupted run is returned to the homeroom teacher. A transcript whose current version is
rendered but unsigned is not chosen (confirming it again would reuse that rendering). The
earlier runs' job rows and queued task rows are deleted, and so are the files of superseded
versions (their rows stay, pointing at missing files: this is a benchmark database).
"""

from __future__ import annotations

import argparse
import functools
import importlib
import io
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, setup_django
from export import DEMO_PASSWORD, configure, create_database

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/sodiem_bench_render"
DEFAULT_MEDIA_ROOT = "/tmp/sodiem-bench-render-media"  # noqa: S108 — a benchmark's scratch
REOPEN_REASON = "Benchmark re-run (bench/render_sign.py)"
TARGET_RATIO, TARGET_SPEEDUP = 0.90, 1.8
DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
#: Timed steps of the job path: bucket → the (module, name) it is looked up as by its caller
#: (a bucket's names that do not exist are skipped, but each bucket must time something).
SPLIT_POINTS = {
    "results": [
        ("transcripts.workflow", "student_year_results"),
        ("transcripts.snapshot", "student_year_results"),
    ],
    "snapshot": [
        ("transcripts.workflow", "build_snapshot"),
        ("transcripts.workflow", "snapshot_of_results"),
    ],
    "xml": [("transcripts.pipeline", "snapshot_to_xml")],
    "html": [("transcripts.render", "transcript_html")],
    "pdf": [("transcripts.render", "html_to_pdf")],
    "pades": [("transcripts.pipeline", "sign_pdf")],
    "xades": [("transcripts.pipeline", "sign_xml")],
    "open": [("transcripts.jobs", "open_signers")],
    "check": [("transcripts.pipeline", "check_certificate")],
    "files": [("transcripts.pipeline", "_store"), ("transcripts.pipeline", "_read")],
}
RENDER_BUCKETS = ("results", "snapshot", "xml", "html", "pdf")
#: Bare render variants: name → what it is (see bare_variant for how each is built).
VARIANTS = {
    "bundled": "bundled pre-subset Noto Serif (as the pipeline), plain PDF",
    "pdfa": "as the pipeline's html_to_pdf: PDF/A-3b + XML attachment",
    "bundled-nosubset": "bundled fonts embedded whole (full_fonts=True, no subsetting)",
    "full-regular": "regular face from NotoSerif-Regular.full.ttf (589 KB), others bundled",
    "system": "system DejaVu Serif (full fonts, 4 faces), subset by WeasyPrint",
    "system-nosubset": "system DejaVu Serif embedded whole (full_fonts=True)",
}


def arguments() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=DEFAULT_DATABASE_URL,
        help=f"benchmark database (default {DEFAULT_DATABASE_URL}; created if missing)",
    )
    parser.add_argument("--media-root", default=DEFAULT_MEDIA_ROOT, help="benchmark MEDIA_ROOT")
    parser.add_argument("--students", type=int, default=400, help="large school's size (prepare)")
    parser.add_argument("--prepare", action="store_true", help="seed, issue certificates (slow)")
    parser.add_argument("--documents", type=int, default=200, help="transcripts per run")
    parser.add_argument(
        "--font-documents",
        type=int,
        default=50,
        help="documents for the bare font/option variants (default 50; 0 skips them)",
    )
    parser.add_argument("--no-parallel", action="store_true", help="skip the 2-worker runs")
    parser.add_argument(
        "--profile",
        type=Path,
        help="only run the 1-worker pipeline under pyinstrument, writing this HTML file "
        "(and next to it a text summary and the .pyisession, for `pyinstrument --load`)",
    )
    parser.add_argument("--child", choices=["pipeline", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--ids", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--variant", default="bundled", help=argparse.SUPPRESS)
    return parser


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
    for label, command, options in (
        (
            f"seed_demo --students {args.students}",
            "seed_demo",
            {"students": args.students, "password": DEMO_PASSWORD},
        ),
        ("demo_pki", "demo_pki", {"password": DEMO_PASSWORD, "schools": [LARGE_CODE]}),
    ):
        print(f"--- {label}", flush=True)
        begun = time.perf_counter()
        call_command(command, **options)
        print(f"--- {label}: {time.perf_counter() - begun:.1f} s", flush=True)
    complete, students = create_transcripts(LARGE_CODE)
    print(f"prepare total: {time.perf_counter() - started:.1f} s")
    print(f"{LARGE_CODE}: {complete} of {students} current students' transcripts are complete")
    return 0 if complete else 1


def create_transcripts(code: str) -> tuple[int, int]:
    """Every current student's transcript of the school's year (created as drafts if missing);
    returns (complete ones, students)."""
    from schools.models import Enrollment, School
    from transcripts.workflow import incomplete_reasons, transcript_for

    school = School.objects.get(code=code)
    enrollments = (
        Enrollment.objects.current()
        .filter(
            class_group__year=school.current_year(), class_group__homeroom_teacher__isnull=False
        )
        .select_related("student", "class_group__year")
    )
    transcripts = [
        transcript_for(student=e.student, class_group=e.class_group) for e in enrollments
    ]
    return sum(1 for t in transcripts if not incomplete_reasons(t)), len(transcripts)


# --- choosing and resetting the documents (untimed) ------------------------------------------


def principal_of(school: object) -> object:
    from accounts.models import Membership, Role

    return Membership.objects.active().get(school=school, role=Role.PRINCIPAL).user


def reset_documents(count: int) -> list[int]:
    """The first ``count`` transcripts of the large school that the jobs will confirm and sign
    from scratch, put back to draft through the workflow (see the module's docstring)."""
    from schools.demo import LARGE_CODE
    from schools.models import School
    from transcripts.models import State, Transcript
    from transcripts.workflow import reopen, return_to_homeroom

    school = School.objects.get(code=LARGE_CODE)
    principal = principal_of(school)
    _remove_earlier_jobs()
    chosen: list[int] = []
    candidates = Transcript.objects.filter(school=school, year=school.current_year())
    for transcript in candidates.select_related("class_group").order_by("class_group__name", "pk"):
        if len(chosen) == count:
            break
        if transcript.state == State.FINAL:
            reopen(actor=principal, transcript=transcript, reason=REOPEN_REASON)
        elif transcript.state != State.DRAFT:
            return_to_homeroom(actor=principal, transcript=transcript, comment=REOPEN_REASON)
        current = transcript.current_version
        if current is not None and current.rendered_at and not current.signatures.exists():
            continue  # confirming would reuse this rendering: not a fresh document
        _delete_superseded_files(transcript)
        chosen.append(transcript.pk)
    if len(chosen) < count:
        raise SystemExit(f"Only {len(chosen)} transcripts can be signed afresh; run --prepare.")
    return chosen


def _remove_earlier_jobs() -> None:
    from django_tasks_db.models import DBTaskResult

    from transcripts.models import TranscriptJob

    DBTaskResult.objects.filter(task_path="transcripts.tasks.run_transcript_job").delete()
    TranscriptJob.objects.all().delete()


def _delete_superseded_files(transcript: object) -> None:
    """Remove the files of the transcript's superseded versions (every signing stage's), so the
    media root does not grow by four PDFs and four XMLs per document and run."""
    for version in transcript.versions.filter(superseded_at__isnull=False).exclude(pdf_file=""):
        folder = Path(version.pdf_file.path).parent
        if folder.is_dir():
            shutil.rmtree(folder)


def document_figures(ids: list[int]) -> dict[str, object]:
    """After a pipeline run: the produced PDFs' states, pages and sizes."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    from transcripts.models import State, Transcript

    pages, sizes, not_final = 0, [], []
    for transcript in Transcript.objects.filter(pk__in=ids):
        version = transcript.current_version
        if transcript.state != State.FINAL or version is None or not version.pdf_file:
            not_final.append(transcript.pk)
            continue
        with version.pdf_file.open("rb") as handle:
            data = handle.read()
        sizes.append(len(data))
        pages += int(PdfFileReader(io.BytesIO(data), strict=False).root["/Pages"]["/Count"])
    classes = Transcript.objects.filter(pk__in=ids).values("class_group").distinct().count()
    return {
        "pages": pages,
        "mean_size": statistics.mean(sizes) if sizes else 0,
        "not_final": not_final,
        "classes": classes,
    }


# --- workers (each in a fresh process) -------------------------------------------------------


def release_point() -> float:
    """Tell the parent this worker is set up, wait until it releases all workers together;
    returns the start time (CLOCK_MONOTONIC, comparable across processes)."""
    print("ready", flush=True)
    sys.stdin.readline()
    return time.monotonic()


def rss_kib() -> dict[str, int]:
    status = Path("/proc/self/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return {key: int(fields[key].split()[0]) for key in ("VmRSS", "VmHWM")}


class Split:
    """Wall time per bucket, exclusive: a timed call is charged its own time less that of the
    timed calls and SQL inside it (so SQL run while computing results counts as SQL)."""

    def __init__(self) -> None:
        self.seconds = dict.fromkeys([*SPLIT_POINTS, "sql", "commit"], 0.0)
        self.calls = dict.fromkeys(self.seconds, 0)
        self._stack: list[str] = []
        self._since = 0.0

    def _charge(self) -> None:
        now = time.perf_counter()
        if self._stack:
            self.seconds[self._stack[-1]] += now - self._since
        self._since = now

    def run(self, bucket: str, function, *args, **kwargs):
        self._charge()
        self._stack.append(bucket)
        self.calls[bucket] += 1
        try:
            return function(*args, **kwargs)
        finally:
            self._charge()
            self._stack.pop()

    def wrap(self, bucket: str, function):
        @functools.wraps(function)
        def timed(*args, **kwargs):
            return self.run(bucket, function, *args, **kwargs)

        return timed

    def install(self) -> None:
        """Time the job path's steps (SPLIT_POINTS) and the database connection's commits."""
        from django.db import connections

        for bucket, points in SPLIT_POINTS.items():
            modules = [(importlib.import_module(module), name) for module, name in points]
            found = [(module, name) for module, name in modules if hasattr(module, name)]
            if not found:
                raise SystemExit(f"Nothing to time for {bucket!r}: {points} (renamed?)")
            for module, name in found:
                setattr(module, name, self.wrap(bucket, getattr(module, name)))
        wrapper = connections["default"]
        wrapper.commit = self.wrap("commit", wrapper.commit)

    def sql(self, execute, sql, params, many, context):  # Django's execute_wrapper signature
        return self.run("sql", execute, sql, params, many, context)


def child_pipeline(args: argparse.Namespace) -> dict[str, object]:
    setup_django(args.database_url)
    from django.db import connection

    from transcripts.jobs import run_job, start_job
    from transcripts.models import JobStep, Transcript

    ids = json.loads(args.ids.read_text())
    transcripts = list(
        Transcript.objects.filter(pk__in=ids)
        .select_related("school", "year", "class_group__homeroom_teacher", "student")
        .order_by("class_group__name", "pk")
    )
    school, year = transcripts[0].school, transcripts[0].year
    principal = principal_of(school)
    classes: dict[int, list] = {}
    for transcript in transcripts:
        classes.setdefault(transcript.class_group_id, []).append(transcript)
    warm_up_pipeline(transcripts[0], principal)
    split = Split()
    split.install()
    profiler = _profiler(args)
    after_setup = rss_kib()
    summaries = []
    start = release_point()
    with connection.execute_wrapper(split.sql):
        if profiler:
            profiler.start()
        for members in classes.values():
            class_group = members[0].class_group
            job = start_job(
                actor=class_group.homeroom_teacher,
                school=school,
                year=year,
                transcripts=members,
                steps=[JobStep.CONFIRM, JobStep.HOMEROOM],
                secrets={JobStep.HOMEROOM: DEMO_PASSWORD},
                class_group=class_group,
            )
            summaries.append(run_job(job.pk))
        homeroom_done = time.monotonic()
        job = start_job(
            actor=principal,
            school=school,
            year=year,
            transcripts=transcripts,
            steps=[JobStep.PRINCIPAL, JobStep.SEAL],
            secrets={JobStep.PRINCIPAL: DEMO_PASSWORD, JobStep.SEAL: DEMO_PASSWORD},
        )
        summaries.append(run_job(job.pk))
        end = time.monotonic()
        if profiler:
            profiler.stop()
    if profiler:
        _write_profile(profiler, args.profile)
    return {
        "start": start,
        "end": end,
        "homeroom_seconds": homeroom_done - start,
        "principal_seconds": end - homeroom_done,
        "documents": len(transcripts),
        "jobs": len(summaries),
        "failed": sum(int(s.get("failed", 0)) for s in summaries),
        "not_finished": [s for s in summaries if s.get("status") != "finished"],
        "queries": split.calls["sql"],
        "split": {"seconds": split.seconds, "calls": split.calls},
        "rss_after_setup_kib": after_setup["VmRSS"],
    }


def warm_up_pipeline(transcript: object, principal: object) -> None:
    """One render and one PAdES + XAdES signature, untimed and stored nowhere: what a
    long-lived worker has done before (fonts, stylesheet, signing libraries loaded)."""
    from transcripts.credentials import open_signer
    from transcripts.jobs import credential_for
    from transcripts.models import JobStep
    from transcripts.pipeline import verification_url
    from transcripts.render import render_transcript_pdf
    from transcripts.signing.formats import sign_pdf, sign_xml
    from transcripts.snapshot import build_snapshot
    from transcripts.xml import DATA_ID, snapshot_to_xml

    snapshot = build_snapshot(transcript.student, transcript.year)
    xml = snapshot_to_xml(snapshot, transcript_id=str(transcript.public_id), version=1)
    pdf = render_transcript_pdf(
        snapshot,
        xml_bytes=xml,
        verification_code="WARMUP2345",
        verification_url=verification_url("WARMUP2345"),
    )
    credential = credential_for(school=transcript.school, user=principal, step=JobStep.PRINCIPAL)
    signer = open_signer(credential=credential, secret=DEMO_PASSWORD)
    try:
        sign_pdf(pdf, signer, field_name="Warmup", reason="warm-up", location="bench")
        sign_xml(xml, signer, reference_id=DATA_ID)
    finally:
        signer.close()


def child_bare(args: argparse.Namespace) -> dict[str, object]:
    setup_django(args.database_url)
    from weasyprint import HTML

    from transcripts.models import Transcript
    from transcripts.pipeline import verification_url
    from transcripts.render import STYLESHEET, transcript_html
    from transcripts.xml import snapshot_to_xml

    ids = json.loads(args.ids.read_text())
    documents = []
    for transcript in Transcript.objects.filter(pk__in=ids).order_by("class_group__name", "pk"):
        version = transcript.current_version
        code = version.verification_code
        html = transcript_html(
            version.snapshot, verification_code=code, verification_url=verification_url(code)
        )
        xml = snapshot_to_xml(
            version.snapshot, transcript_id=str(transcript.public_id), version=version.number
        )
        documents.append((html, xml))
    render_options = bare_variant(args.variant)
    base_url = str(STYLESHEET.parent)

    def render(html: str, xml: bytes) -> tuple[int, int]:
        render_kw, pdf_kw = render_options(xml)
        document = HTML(string=html, base_url=base_url).render(**render_kw)
        pdf = document.write_pdf(**pdf_kw)
        return len(document.pages), len(pdf)

    render(*documents[0])  # warm-up: fonts and stylesheet loaded, as in a long-lived worker
    after_setup = rss_kib()
    pages, sizes, seconds = 0, [], []
    start = release_point()
    for html, xml in documents:
        begun = time.monotonic()
        counted, size = render(html, xml)
        seconds.append(time.monotonic() - begun)
        pages += counted
        sizes.append(size)
    end = time.monotonic()
    return {
        "start": start,
        "end": end,
        "documents": len(documents),
        "pages": pages,
        "mean_size": statistics.mean(sizes),
        "median_ms": statistics.median(seconds) * 1000,
        "rss_after_setup_kib": after_setup["VmRSS"],
    }


def bare_variant(name: str):
    """(xml bytes) → (render keywords, write_pdf keywords) of a bare render variant, its font
    configuration and stylesheet built once (per process, as render.py does)."""
    from weasyprint import CSS, Attachment
    from weasyprint.text.fonts import FontConfiguration

    from transcripts.render import PDF_VARIANT, STYLESHEET, font_config, stylesheet

    fonts, css = font_config(), stylesheet()
    text = STYLESHEET.read_text(encoding="utf-8")
    if name == "full-regular":
        text = text.replace("NotoSerif-Regular.vi.ttf", "NotoSerif-Regular.full.ttf")
    elif name.startswith("system"):
        for face, system in (
            ("Regular", ""),
            ("Bold", "-Bold"),
            ("Italic", "-Italic"),
            ("BoldItalic", "-BoldItalic"),
        ):
            text = text.replace(
                f'"../fonts/NotoSerif-{face}.vi.ttf"',
                f'"{(DEJAVU / f"DejaVuSerif{system}.ttf").as_uri()}"',
            )
    if name in ("full-regular", "system", "system-nosubset"):
        fonts = FontConfiguration()
        css = CSS(string=text, base_url=str(STYLESHEET), font_config=fonts)
    whole = {"full_fonts": True} if name.endswith("nosubset") else {}

    def options(xml: bytes) -> tuple[dict, dict]:
        pdf = dict(whole)
        if name == "pdfa":
            attachment = Attachment(
                file_obj=io.BytesIO(xml),
                name="hocba.xml",
                description="Dữ liệu học bạ (XML, urn:sodiem:hocba:1)",
                relationship="Data",
            )
            pdf |= {"pdf_variant": PDF_VARIANT, "attachments": [attachment]}
        return {"stylesheets": [css], "font_config": fonts, **pdf}, pdf

    return options


def _profiler(args: argparse.Namespace):
    if not args.profile:
        return None
    from pyinstrument import Profiler

    return Profiler()


def _write_profile(profiler, path: Path) -> None:
    path.write_text(profiler.output_html(), encoding="utf-8")
    path.with_suffix(".txt").write_text(
        profiler.output_text(unicode=True, show_all=False), encoding="utf-8"
    )
    profiler.last_session.save(str(path.with_suffix(".pyisession")))


# --- the parent: runs the workers, prints the figures ----------------------------------------


@dataclass
class Run:
    """One timed step over some documents by one or more worker processes."""

    label: str
    workers: list[dict] = field(default_factory=list)
    peaks_kib: list[int] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return max(w["end"] for w in self.workers) - min(w["start"] for w in self.workers)

    @property
    def documents(self) -> int:
        return sum(w["documents"] for w in self.workers)

    @property
    def rate(self) -> float:
        return self.documents / self.seconds


def run_workers(args: argparse.Namespace, kind: str, parts: list[list[int]], *extra: str) -> Run:
    """Start one worker per part, release them together once all are set up, wait for all."""
    run = Run(kind)
    with tempfile.TemporaryDirectory(prefix="sodiem-bench-") as scratch:
        processes = []
        for index, ids in enumerate(parts):
            ids_file, result = (
                Path(scratch) / f"ids-{index}.json",
                Path(scratch) / f"r-{index}.json",
            )
            ids_file.write_text(json.dumps(ids))
            command = [
                sys.executable,
                __file__,
                "--child",
                kind,
                "--ids",
                str(ids_file),
                "--result",
                str(result),
                "--database-url",
                args.database_url,
                "--media-root",
                args.media_root,
                *extra,
            ]
            process = subprocess.Popen(  # noqa: S603 — our own script
                command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
            )
            processes.append((process, result))
        for process, _result in processes:
            for line in process.stdout:
                if line.strip() == "ready":
                    break
                sys.stderr.write(line)
        for process, _result in processes:
            process.stdin.write("go\n")
            process.stdin.close()
        for process, result in processes:
            _pid, status, usage = os.wait4(process.pid, 0)
            process.returncode = os.waitstatus_to_exitcode(status)
            process.stdout.close()
            if process.returncode != 0:
                raise SystemExit(f"A {kind} worker failed (exit status {process.returncode}).")
            run.workers.append(json.loads(result.read_text(encoding="utf-8")))
            run.peaks_kib.append(usage.ru_maxrss)
    return run


def halves(ids: list[int], workers: int) -> list[list[int]]:
    size = -(-len(ids) // workers)
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def pipeline_run(args: argparse.Namespace, workers: int, *extra: str) -> tuple[Run, dict]:
    ids = reset_documents(args.documents)
    run = run_workers(args, "pipeline", halves(ids, workers), *extra)
    figures = document_figures(ids)
    if figures["not_final"] or any(w["failed"] or w["not_finished"] for w in run.workers):
        print(f"WARNING: {len(figures['not_final'])} transcripts not final; jobs: {run.workers}")
    return run, figures | {"ids": ids}


def memory(run: Run) -> str:
    peaks = ", ".join(f"{kib / 1024:.0f}" for kib in run.peaks_kib)
    setup = ", ".join(f"{w['rss_after_setup_kib'] / 1024:.0f}" for w in run.workers)
    return f"peak RSS per worker {peaks} MiB (after set-up and warm-up {setup} MiB)"


def describe_pipeline(run: Run, figures: dict) -> str:
    pages = figures["pages"]
    homeroom = max(w["homeroom_seconds"] for w in run.workers)
    principal = max(w["principal_seconds"] for w in run.workers)
    queries = sum(w["queries"] for w in run.workers)
    return (
        f"  {run.documents} documents in {run.seconds:.1f} s: {run.rate:.2f} documents/s, "
        f"{pages / run.seconds:.2f} pages/s\n"
        f"  jobs: {sum(w['jobs'] for w in run.workers)} ({sum(w['failed'] for w in run.workers)} "
        f"failed students); confirm+homeroom {homeroom:.1f} s, principal+seal {principal:.1f} s "
        f"(slowest worker); {queries / run.documents:.0f} SQL queries/document\n"
        f"  final PDF mean {figures['mean_size'] / 1024:.0f} KiB; {memory(run)}"
    )


def split_ms(run: Run) -> tuple[dict[str, float], dict[str, float], float]:
    """(bucket → ms per document, bucket → calls per document, wall ms per document), summed
    over the workers; "other" is the wall time no bucket was charged with."""
    documents = run.documents
    ms = {bucket: 0.0 for bucket in run.workers[0]["split"]["seconds"]}
    calls = dict.fromkeys(ms, 0.0)
    for worker in run.workers:
        for bucket, seconds in worker["split"]["seconds"].items():
            ms[bucket] += seconds * 1000 / documents
            calls[bucket] += worker["split"]["calls"][bucket] / documents
    wall = sum(w["end"] - w["start"] for w in run.workers) * 1000 / documents
    ms["other"] = wall - sum(ms.values())
    return ms, calls, wall


def describe_split(run: Run, bare: Run | None = None) -> str:
    """Where the pipeline's time per document goes (see the module's docstring)."""
    ms, calls, wall = split_ms(run)
    render = sum(ms[b] for b in RENDER_BUCKETS)
    signatures = ms["pades"] + ms["xades"]
    sql = ms["sql"] + ms["commit"]

    def each(bucket: str) -> float:
        return ms[bucket] / calls[bucket] if calls[bucket] else 0.0

    lines = [
        f"  time per document: {wall:.0f} ms =",
        f"    render step {render:.0f} ms: year results {ms['results']:.1f} "
        f"({calls['results']:.1f} computations), snapshot {ms['snapshot']:.1f}, XML "
        f"{ms['xml']:.1f}, HTML {ms['html']:.1f}, WeasyPrint PDF/A-3 {ms['pdf']:.0f}",
        f"    + signatures {signatures:.0f} ms: {calls['pades']:.1f} PAdES × {each('pades'):.1f} "
        f"ms, {calls['xades']:.1f} XAdES × {each('xades'):.1f} ms",
        f"    + SQL {sql:.0f} ms: {calls['sql']:.0f} queries {ms['sql']:.1f} ms, "
        f"{calls['commit']:.1f} commits {ms['commit']:.1f} ms",
        f"    + certificates {ms['open'] + ms['check']:.0f} ms: opened when each job starts and "
        f"again in its worker, {ms['open']:.1f} ms ({calls['open'] * run.documents:.0f} times "
        f"here: per job, not per document); checked per signature, {each('check'):.2f} ms each",
        f"    + files {ms['files']:.1f} ms: stored and read back, SHA-256",
        f"    + other {ms['other']:.0f} ms: ORM, job bookkeeping, the rest",
    ]
    if bare is not None:
        bare_ms = bare.seconds * 1000 / bare.documents * len(bare.workers)
        lines.append(
            f"  render step alone: {render:.0f} ms/document = {render / bare_ms:.2f} × bare "
            f"WeasyPrint's {bare_ms:.0f} ms/document (its PDF/A-3 + attachment part "
            f"{ms['pdf']:.0f} ms = {ms['pdf'] / bare_ms:.2f} ×); each signature costs PAdES "
            f"{each('pades'):.1f} ms, XAdES {each('xades'):.1f} ms; everything else "
            f"{wall - render - signatures:.0f} ms/document"
        )
    return "\n".join(lines)


def describe_bare(run: Run) -> str:
    pages = sum(w["pages"] for w in run.workers)
    size = statistics.mean(w["mean_size"] for w in run.workers)
    median = statistics.median(w["median_ms"] for w in run.workers)
    return (
        f"  {run.documents} documents in {run.seconds:.1f} s: {run.rate:.2f} documents/s, "
        f"{pages / run.seconds:.2f} pages/s ({pages} pages); median {median:.0f} ms/document\n"
        f"  PDF mean {size / 1024:.0f} KiB; {memory(run)}"
    )


def environment(args: argparse.Namespace) -> str:
    from importlib.metadata import version

    import django
    import weasyprint
    from django.conf import settings
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in cpuinfo.splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    return (
        f"machine: {os.cpu_count()} CPUs ({len(os.sched_getaffinity(0))} usable), {model}, "
        f"{platform.system()} {platform.release()}; load average {load}\n"
        f"software: Python {platform.python_version()}, Django {django.__version__}, "
        f"WeasyPrint {weasyprint.__version__}, pydyf {version('pydyf')}, "
        f"pyHanko {version('pyhanko')}, PostgreSQL {pg}\n"
        f"settings: DEBUG={settings.DEBUG}, TASKS_BACKEND={settings.TASKS_BACKEND}, "
        f"database {connection.settings_dict['NAME']}, media {args.media_root}"
    )


def verdict(value: float, target: float) -> str:
    return "met" if value >= target else "MISSED"


def main() -> int:
    args = arguments().parse_args()
    configure(args)
    os.environ["TASKS_BACKEND"] = "db"  # start_job only records the task; the workers run it
    if args.child:
        outcome = child_pipeline(args) if args.child == "pipeline" else child_bare(args)
        args.result.write_text(json.dumps(outcome), encoding="utf-8")
        return 0
    if args.prepare:
        return prepare(args)
    setup_django(args.database_url)
    print(environment(args), flush=True)
    if args.profile:
        run, figures = pipeline_run(args, 1, "--profile", str(args.profile.resolve()))
        print(f"pipeline under pyinstrument, 1 worker:\n{describe_pipeline(run, figures)}")
        print(describe_split(run))
        print(f"profile: {args.profile} and {args.profile.with_suffix('.txt')}")
        return 0
    one, figures = pipeline_run(args, 1)
    bare_one = run_workers(args, "bare", [figures["ids"]])
    print(
        f"documents: {one.documents} transcripts of {figures['classes']} classes, "
        f"{figures['pages']} pages ({figures['pages'] / one.documents:.2f} per document)"
    )
    print(
        f"pipeline (jobs: confirm+homeroom per class, then principal+seal), 1 worker:\n"
        f"{describe_pipeline(one, figures)}"
    )
    print(f"bare WeasyPrint, same HTML, 1 worker:\n{describe_bare(bare_one)}")
    ratio = one.rate / bare_one.rate
    print(
        f"ratio pipeline/bare, 1 worker: {ratio:.2f} (target ≥ {TARGET_RATIO:.2f}: "
        f"{verdict(ratio, TARGET_RATIO)})",
        flush=True,
    )
    print(f"where the pipeline's time goes, 1 worker:\n{describe_split(one, bare_one)}", flush=True)
    if not args.no_parallel:
        two, figures_two = pipeline_run(args, 2)
        bare_two = run_workers(args, "bare", halves(figures_two["ids"], 2))
        print(f"pipeline, 2 workers:\n{describe_pipeline(two, figures_two)}")
        print(f"bare WeasyPrint, 2 workers:\n{describe_bare(bare_two)}")
        print(f"where the pipeline's time goes, 2 workers:\n{describe_split(two, bare_two)}")
        speedup, bare_speedup = two.rate / one.rate, bare_two.rate / bare_one.rate
        print(
            f"speed-up 2 workers / 1: pipeline {speedup:.2f}× (target ≥ {TARGET_SPEEDUP}×: "
            f"{verdict(speedup, TARGET_SPEEDUP)}), bare WeasyPrint {bare_speedup:.2f}×; "
            f"ratio pipeline/bare, 2 workers: {two.rate / bare_two.rate:.2f}",
            flush=True,
        )
    if args.font_documents:
        font_variants(args, figures_two["ids"] if not args.no_parallel else figures["ids"])
    print(f"load average at the end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    return 0


def font_variants(args: argparse.Namespace, ids: list[int]) -> None:
    ids = ids[: args.font_documents]
    print(f"bare WeasyPrint variants, 1 worker, first {len(ids)} documents:")
    base = None
    for name, description in VARIANTS.items():
        run = run_workers(args, "bare", [ids], "--variant", name)
        worker = run.workers[0]
        ms = run.seconds / run.documents * 1000
        base = base or ms
        print(
            f"  {name:<17} {ms:6.0f} ms/document ({ms / base:4.2f}×) "
            f"{worker['pages'] / run.documents:.2f} pages, {worker['mean_size'] / 1024:4.0f} KiB, "
            f"peak {run.peaks_kib[0] / 1024:.0f} MiB — {description}",
            flush=True,
        )


if __name__ == "__main__":
    sys.exit(main())
