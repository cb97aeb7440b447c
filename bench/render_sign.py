"""Time rendering and signing a batch of transcripts through the real job path, against a bare
WeasyPrint render of the same HTML, with one worker process and with two; or (`--methods`) one
class signed by its three signers with each signing method in turn.

    DEBUG=1 .venv/bin/python bench/render_sign.py --prepare         # once (seed, PKI), untimed
    DEBUG=1 .venv/bin/python bench/render_sign.py --documents 200   # the run; repeatable
    DEBUG=1 .venv/bin/python bench/render_sign.py --methods --class-size 45 --rounds 2
    DEBUG=1 .venv/bin/python bench/render_sign.py --documents 45 --pades-level B-B,B-T,B-LT,B-LTA

Works on its own database and media root (default PostgreSQL `sodiem_bench_render`, created if
missing, and /tmp/sodiem-bench-render-media), never on the checkout's. `--prepare` (idempotent)
migrates, runs `seed_demo --students N` (the large demo school, 01009999; the default 540 makes
12 classes of 45), `demo_pki` for it and creates the draft transcript of every current student,
reporting how many are complete. A database prepared with fewer students has smaller classes:
`--methods` then says to prepare a new one.

A run, each timed step in fresh worker processes (started, set up and warmed up with one
untimed render and signature, then released together; peak RSS from the kernel, `wait4`):

1. pipeline, 1 worker: the first N transcripts (by class, then id) go through the jobs a
   school runs: per class, the homeroom teacher's job `[confirm, homeroom]` (snapshot, render
   the PDF/A-3b and XML, PAdES + XAdES signature), then the principal's job
   `[principal, seal]`; each is `transcripts.jobs.start_job(..., in_background=False)`
   followed by `run_job(pk)` in the worker, as `manage.py sign_transcripts` runs them. The
   signers sign with their demo PKCS#12 files (a key the server holds: one `sign_digests` call
   per batch, i.e. per signer and job).
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
and XAdES, each prepared then finished: two-phase signing, with their count, so the cost of
one), the signature values (one request per batch to the signer's source), SQL (queries and
commits), the certificates (opened twice per signing step, checked when opened and each value
when it arrives), the stored files (rendered, prepared and signed), and the rest (the ORM's
own time, job bookkeeping). The render step is then set against the bare render of the same
documents.

`--methods [pkcs12,csc,phone,companion]` (issue 13's "Measure"): the first `--class-size`
(45) transcripts of the first class of that size, signed by its homeroom teacher's job
`[confirm, homeroom]` and the principal's `[principal, seal]` (start_job(...,
in_background=False) + run_job) with each method in turn, the three signers (homeroom teacher,
principal, seal) signing the same way:

- `pkcs12`: the demo PKCS#12 files (password `demo-ky-so`): a key the server holds;
- `csc`: a `CscServer` fake on 127.0.0.1 holding the same keys (`--multisign`, default 100 ≥
  the 90 digests of a batch), listed in `SIGNING_SERVICES` (a JSON file named by
  `SIGNING_SERVICES_FILE` for the workers) and registered as the signers' REMOTE credentials
  (`register_credential`), the PIN given to the jobs as the PKCS#12 password would be;
- `phone`: a `ConfirmServer` fake with every signer set to confirm at once;
- `companion`: the real signing companion (`python -m sodiem_companion`, its own process) with
  a SoftHSM2 token (made per run) holding the three keys and certificates, paired over HTTP as
  a browser pairs (POST /v1/pair, the code typed into its page's form, GET /v1/pair/{id}).

The fakes run as threads of the parent process, which is idle while a worker runs (on a real
deployment they are other machines). Each method's two jobs run in a fresh worker process (set
up and warmed up with the principal's PKCS#12 file, so no service counts a warm-up), timed
from the first start_job to the end of the last job. A job that waits for its signer is moved
on the way production moves it, only without the delays: for the phone, `jobs.poll_batch` every
`--poll-seconds` (0.05; production's poll task runs every 2 s) until the values are in, then
`run_job` again (a worker picking the re-queued job up); for the companion, the worker plays
the browser and the person: the batch's digests (`batches.digests`, as `hocba:job_digests`
gives them) POSTed to the companion's /v1/sign, the PIN typed into its page's form (POST
/ui/sign/{id} with the page's CSRF token), /v1/sign/{id} polled until signed, then
`batches.receive_values` + `jobs.after_batch` (as `hocba:job_values` does) and `run_job`.
Then bare WeasyPrint over the same 45 documents, in a fresh process, right after each method.
Reported per method: documents/s over the whole signing, render included (and without the
render step, and where the time goes, with the time spent waiting for the signer), and the
authorisations: the sum of `SigningBatch.authorisations` over the batches, and as the party
holding the key counted them (`sign_digests` calls on the PKCS#12 key; the CSC fake's
`credentials/authorize` calls; the phone fake's submitted requests; the companion's POST
/v1/sign requests in its own log, and its PIN confirmations). Each must be exactly 3 (one per
signer), every transcript must end final and every job finished; otherwise the method is
reported FAILED with the reason and the exit status is 1. `--rounds N` runs every method N
times in alternating order (the summary gives the medians). At the end the signers' PKCS#12
credentials are made active again (the other runs use them).

`--pades-level B-B,B-T,B-LT,B-LTA` (repeatable or comma-separated; issue 14's "Measure"):
instead of the run above, the 1-worker pipeline over the first `--documents` transcripts at
each PAdES level in turn (`--rounds N`: N times, in alternating order), each followed by bare
WeasyPrint over the same documents. The levels need a time-stamping authority and, from B-LT,
OCSP / CRLs for the signers' chains: the tests' certomancer PKI
(tests/transcripts/pki_certomancer.py; root CA, school CA, OCSP responder, CRLs, TSA) is served
by its animator on 127.0.0.1 (an ephemeral port) in threads of the parent process, and it also
issues each bench signer's certificate (every homeroom teacher and the principal, CN = their
names; the seal, CN = O = the school's name), registered as their active PKCS#12 credential
while the levels run (the demo ones active again at the end). The workers get
`SIGNING_TSA_URL` (the PKI's TSA), `SIGNING_PADES_LEVEL` (the level; B-B too, with the same
certificates, so only the LTV steps differ), `SIGNING_REVOCATION=require` (so each job also
checks each signer's revocation before its batch, at every level) and the PKI's root added to
the trust anchors; a worker warms up with the principal's key at the level. Per level: the
figures of the standard run, the LTV steps' ms per document (time-stamp requests, OCSP / CRL
fetches, validation data into the DSS, the document time-stamp, XAdES-T; SPLIT_POINTS' last
five buckets), the requests the PKI answered while the worker ran, per document (TSA, OCSP,
CRL), their handling time there, and the median final PDF and XML sizes. The first B-LTA
file is checked with pdfsig (judged as docs/signing.md says), `pyhanko sign adesverify` and
`check_pdf`, and kept with the PKI's root in MEDIA_ROOT/bench-ltv/. The service keeps its
signing keys loaded (certomancer loads one for every answer it signs: ~55 ms of CPU each), as
a real TSA or responder does; on localhost a request costs a few ms, not a real CA's network
round trip.

Re-running: before each pipeline step the chosen transcripts are put back to draft through
the workflow, as a school would: a final one is reopened by the principal (its version is
superseded, so confirming makes and renders a new version), one left half-way by an
interrupted run is returned to the homeroom teacher. A transcript whose current version is
rendered but unsigned is not chosen (confirming it again would reuse that rendering). The
earlier runs' job rows (with their signing batches), queued task rows and prepared files are
deleted, and so are the files of superseded versions (their rows stay, pointing at missing
files: this is a benchmark database).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib
import inspect
import io
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
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
#: --methods: how the three signers sign, in turn (see the module's docstring).
METHODS = ("pkcs12", "csc", "phone", "companion")
EXPECTED_AUTHORISATIONS = 3  # one per signer: homeroom teacher, principal, seal
CSC_SERVICE, PHONE_SERVICE = "bench-csc", "bench-phone"
BENCH_PIN = "739154"  # the CSC credentials' PIN and the SoftHSM2 token's
SOFTHSM_LIB = "/usr/lib/softhsm/libsofthsm2.so"
TOKEN_LABEL = "bench-signers"  # noqa: S105 — a token's name, not a secret
#: Timed steps of the job path: bucket → the (module, name) it is looked up as by its caller;
#: a name may be "Class.method" (a bucket's names that do not exist are skipped, but each bucket
#: must time something).
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
    # two-phase signing: each document is prepared, then finished with its value
    "pades": [("transcripts.pipeline", "prepare_pdf"), ("transcripts.pipeline", "finish_pdf")],
    "xades": [("transcripts.pipeline", "prepare_xml"), ("transcripts.pipeline", "finish_xml")],
    # the signer's values for a whole batch: a key the server holds (sign_digests once per
    # batch, a CSC service's calls included), or a phone-confirmation service's request and polls
    "values": [
        ("transcripts.signing.sources", "SignerSource.request"),
        ("transcripts.signing.services.confirm", "ConfirmSource.request"),
        ("transcripts.signing.services.confirm", "ConfirmSource.poll"),
    ],
    "open": [("transcripts.batches", "open_source")],
    "check": [
        ("transcripts.pipeline", "check_certificate_for"),
        ("transcripts.batches", "signature_digest_matches"),
    ],
    "files": [
        ("transcripts.pipeline", "_store"),
        ("transcripts.pipeline", "read_file"),
        ("transcripts.pipeline", "delete_files"),
        ("transcripts.batches", "_store_prepared"),
    ],
    # long-term validation (--pades-level; nothing is called at B-B but the revocation checks):
    # the RFC 3161 requests (each signature's time-stamp, XAdES-T's, the document time-stamp's;
    # async, timed while awaited), the OCSP / CRL / issuer-certificate fetches (the batches'
    # revocation checks included), and the rest of each LTV step, less the requests inside it
    "tsa": [
        ("pyhanko.sign.timestamps.aiohttp_client", "HTTPTimeStamper.async_request_tsa_response")
    ],
    "fetch": [
        ("pyhanko_certvalidator.fetchers.aiohttp_fetchers.ocsp_client", "_grab_ocsp"),
        ("pyhanko_certvalidator.fetchers.aiohttp_fetchers.crl_client", "_grab_crl"),
        ("pyhanko_certvalidator.fetchers.aiohttp_fetchers.cert_fetch_client", "_grab_certs"),
    ],
    "dss": [
        ("transcripts.signing.formats", "add_validation_data"),
        ("transcripts.signing.ltv", "add_validation_data"),
    ],
    "doc_ts": [
        ("transcripts.signing.formats", "add_document_timestamp"),
        ("transcripts.signing.ltv", "add_document_timestamp"),
    ],
    "xades_t": [
        ("transcripts.signing.formats", "add_xades_timestamp"),
        ("transcripts.signing.ltv", "add_xades_timestamp"),
    ],
}
RENDER_BUCKETS = ("results", "snapshot", "xml", "html", "pdf")
LTV_BUCKETS = ("tsa", "fetch", "dss", "doc_ts", "xades_t")
#: --pades-level: the levels (transcripts.signing.ltv.PadesLevel), each run in turn against the
#: certomancer test PKI (tests/transcripts/pki_certomancer.py) served on 127.0.0.1.
PADES_LEVELS = ("B-B", "B-T", "B-LT", "B-LTA")
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
    parser.add_argument(
        "--students",
        type=int,
        default=540,
        help="large school's size (prepare; 540: 12 classes of 45)",
    )
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
    parser.add_argument(
        "--methods",
        nargs="?",
        const=",".join(METHODS),
        help="instead of the run above: sign one class with each method in turn, "
        f"comma-separated (default, without a value: {','.join(METHODS)}); prints the "
        "authorisations and documents/s next to bare WeasyPrint",
    )
    parser.add_argument(
        "--pades-level",
        action="append",
        metavar="{B-B,B-T,B-LT,B-LTA}",
        help="instead of the run above: the pipeline (1 worker, --documents) at each PAdES "
        "level in turn (repeatable, or comma-separated), the signers' certificates issued by "
        "the tests' certomancer PKI served on 127.0.0.1 (TSA, OCSP, CRLs), each level followed "
        "by bare WeasyPrint; per level documents/s, ratio, LTV ms, requests and sizes per "
        "document; a B-LTA file checked with pdfsig. Without it: the settings' level (B-B)",
    )
    parser.add_argument(
        "--class-size", type=int, default=45, help="--methods: transcripts of the class (45)"
    )
    parser.add_argument(
        "--multisign", type=int, default=100, help="--methods: the CSC fake's multisign (100)"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="--methods / --pades-level: run every method (level) this many times, in "
        "alternating order (1)",
    )
    parser.add_argument(
        "--poll-seconds",
        type=float,
        default=0.05,
        help="--methods: seconds between two looks at a waiting batch or companion request",
    )
    parser.add_argument("--child", choices=["pipeline", "bare", "method"], help=argparse.SUPPRESS)
    parser.add_argument("--services", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--ids", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--variant", default="bundled", help=argparse.SUPPRESS)
    parser.add_argument("--warm-up-p12", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--trust-anchors", help=argparse.SUPPRESS)
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


def reset_documents(count: int, class_pk: int | None = None) -> list[int]:
    """The first ``count`` transcripts of the large school (of one class: ``class_pk``) that the
    jobs will confirm and sign from scratch, put back to draft through the workflow (see the
    module's docstring)."""
    from schools.demo import LARGE_CODE
    from schools.models import School
    from transcripts.models import State, Transcript
    from transcripts.workflow import reopen, return_to_homeroom

    school = School.objects.get(code=LARGE_CODE)
    principal = principal_of(school)
    _remove_earlier_jobs()
    chosen: list[int] = []
    candidates = Transcript.objects.filter(school=school, year=school.current_year())
    if class_pk is not None:
        candidates = candidates.filter(class_group_id=class_pk)
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
    """The earlier runs' jobs (their batches with them), queued tasks and prepared files."""
    from django.conf import settings
    from django_tasks_db.models import DBTaskResult

    from transcripts.models import TranscriptJob

    DBTaskResult.objects.filter(
        task_path__in=[
            "transcripts.tasks.run_transcript_job",
            "transcripts.tasks.poll_signing_batch",
        ]
    ).delete()
    TranscriptJob.objects.all().delete()
    shutil.rmtree(Path(settings.MEDIA_ROOT) / "signing", ignore_errors=True)


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

    pages, sizes, xml_sizes, not_final = 0, [], [], []
    for transcript in Transcript.objects.filter(pk__in=ids):
        version = transcript.current_version
        if transcript.state != State.FINAL or version is None or not version.pdf_file:
            not_final.append(transcript.pk)
            continue
        with version.pdf_file.open("rb") as handle:
            data = handle.read()
        sizes.append(len(data))
        if version.xml_file:
            xml_sizes.append(version.xml_file.size)
        pages += int(PdfFileReader(io.BytesIO(data), strict=False).root["/Pages"]["/Count"])
    classes = Transcript.objects.filter(pk__in=ids).values("class_group").distinct().count()
    return {
        "pages": pages,
        "mean_size": statistics.mean(sizes) if sizes else 0,
        "median_size": statistics.median(sizes) if sizes else 0,
        "median_xml_size": statistics.median(xml_sizes) if xml_sizes else 0,
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


def _resolve(point: tuple[str, str]) -> tuple[object, str] | None:
    """(module or class, attribute name) of a split point, or None when it does not exist."""
    module, name = point
    owner: object = importlib.import_module(module)
    *path, attribute = name.split(".")
    for part in path:
        owner = getattr(owner, part, None)
    return (owner, attribute) if owner is not None and hasattr(owner, attribute) else None


class Split:
    """Wall time per bucket, exclusive: a timed call is charged its own time less that of the
    timed calls and SQL inside it (so SQL run while computing results counts as SQL)."""

    def __init__(self) -> None:
        self.seconds = dict.fromkeys([*SPLIT_POINTS, "wait", "sql", "commit"], 0.0)
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

    async def run_async(self, bucket: str, function, *args, **kwargs):
        """As run, for a coroutine function: timed while it is awaited. Awaited concurrently
        (pyHanko gathers some fetches), the wall time goes to the innermost one started."""
        self._charge()
        self._stack.append(bucket)
        self.calls[bucket] += 1
        try:
            return await function(*args, **kwargs)
        finally:
            self._charge()
            del self._stack[len(self._stack) - 1 - self._stack[::-1].index(bucket)]

    def wrap(self, bucket: str, function):
        if inspect.iscoroutinefunction(function):

            @functools.wraps(function)
            async def timed_async(*args, **kwargs):
                return await self.run_async(bucket, function, *args, **kwargs)

            return timed_async

        @functools.wraps(function)
        def timed(*args, **kwargs):
            return self.run(bucket, function, *args, **kwargs)

        return timed

    def install(self) -> None:
        """Time the job path's steps (SPLIT_POINTS) and the database connection's commits."""
        from django.db import connections

        for bucket, points in SPLIT_POINTS.items():
            found = [point for point in map(_resolve, points) if point is not None]
            if not found:
                raise SystemExit(f"Nothing to time for {bucket!r}: {points} (renamed?)")
            for owner, name in found:
                setattr(owner, name, self.wrap(bucket, getattr(owner, name)))
        wrapper = connections["default"]
        wrapper.commit = self.wrap("commit", wrapper.commit)

    def sql(self, execute, sql, params, many, context):  # Django's execute_wrapper signature
        return self.run("sql", execute, sql, params, many, context)


def child_pipeline(args: argparse.Namespace) -> dict[str, object]:
    setup_django(args.database_url)
    import logging

    from django.db import connection

    from transcripts.jobs import run_job, start_job
    from transcripts.models import JobStep, Transcript

    if args.warm_up_p12:  # --pades-level: pyHanko logs each fetch and path at INFO
        for name in ("pyhanko", "pyhanko_certvalidator"):
            logging.getLogger(name).setLevel(logging.WARNING)

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
    warm_up_pipeline(transcripts[0], principal, p12=args.warm_up_p12)
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
                in_background=False,
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
            in_background=False,
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


def warm_up_pipeline(transcript: object, principal: object, p12: Path | None = None) -> None:
    """One render and one PAdES + XAdES signature (prepared, signed, finished), untimed and
    stored nowhere: what a long-lived worker has done before (fonts, stylesheet, signing
    libraries loaded). The key is the principal's demo PKCS#12 file, whatever method the
    principal signs with (a remote service must not count a warm-up authorisation); with
    ``p12`` (--pades-level: the principal's PKCS#12 from the test PKI), that key, its revocation
    checked and the signature finished at the settings' level, as the seal's last one (the
    time-stamping client, the fetchers and validation loaded too)."""
    from transcripts.pipeline import verification_url
    from transcripts.render import render_transcript_pdf
    from transcripts.signing.certificates import check_revocation
    from transcripts.signing.formats import finish_pdf, finish_xml, prepare_pdf, prepare_xml
    from transcripts.signing.ltv import LtvSettings
    from transcripts.signing.signers import Pkcs12Signer
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
    ltv = LtvSettings.from_settings() if p12 else None
    if p12:
        signer = Pkcs12Signer.from_bytes(p12.read_bytes(), DEMO_PASSWORD)
        check_revocation(signer.certificate, chain=signer.chain)
    else:
        signer = demo_signer(transcript.school, principal)
    try:
        prepared_pdf = prepare_pdf(
            pdf, signer, field_name="Warmup", reason="warm-up", location="bench",
            timestamped=bool(ltv and ltv.timestamped),
        )  # fmt: skip
        prepared_xml = prepare_xml(xml, signer, reference_id=DATA_ID)
        pdf_value, xml_value = signer.sign_digests([prepared_pdf.digest, prepared_xml.digest])
        finish_pdf(prepared_pdf, signer, pdf_value, ltv=ltv, last=True)
        finish_xml(prepared_xml, signer, xml_value, ltv=ltv)
    finally:
        signer.close()


def demo_pkcs12(school: object, user: object | None) -> Path:
    """The demo PKCS#12 file of a signer (None: the school seal), written by demo_pki."""
    from django.conf import settings

    name = "seal" if user is None else user.username
    return Path(settings.MEDIA_ROOT) / "demo-pki" / f"{school.code}-{name}.p12"


def demo_signer(school: object, user: object | None):
    from transcripts.signing.signers import Pkcs12Signer

    return Pkcs12Signer.from_bytes(demo_pkcs12(school, user).read_bytes(), DEMO_PASSWORD)


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


# --- signing methods (--methods): one class, three signers, each method in turn ------------------


@dataclass
class Signers:
    """The chosen class's three signers: the homeroom teacher, the principal and the seal."""

    school: object
    class_group: object
    homeroom: object
    principal: object

    def holders(self) -> dict[str, object | None]:
        """Account ID at the services (the username; "seal") → the holder (None: the seal)."""
        return {
            self.homeroom.username: self.homeroom,
            self.principal.username: self.principal,
            "seal": None,
        }

    def keys(self) -> dict[str, tuple[object, list]]:
        """Account ID → (key, chain): the demo PKCS#12 files, as the services hold them."""
        from cryptography.hazmat.primitives.serialization import pkcs12

        keys = {}
        for account, user in self.holders().items():
            data = demo_pkcs12(self.school, user).read_bytes()
            key, certificate, chain = pkcs12.load_key_and_certificates(data, DEMO_PASSWORD.encode())
            keys[account] = (key, [certificate, *chain])
        return keys


def methods_class(size: int) -> Signers:
    """The first class of the large school with ``size`` transcripts or more."""
    from django.db.models import Count

    from schools.demo import LARGE_CODE
    from schools.models import ClassGroup, School

    school = School.objects.get(code=LARGE_CODE)
    classes = (
        ClassGroup.objects.filter(year=school.current_year(), homeroom_teacher__isnull=False)
        .annotate(transcript_count=Count("transcripts"))
        .filter(transcript_count__gte=size)
        .select_related("homeroom_teacher")
        .order_by("name")
    )
    class_group = classes.first()
    if class_group is None:
        raise SystemExit(
            f"No class of {LARGE_CODE} has {size} transcripts: prepare a new benchmark database "
            f"with `--prepare --students 540` (12 classes of 45)."
        )
    return Signers(school, class_group, class_group.homeroom_teacher, principal_of(school))


def use_credential(signers: Signers, user: object | None, kind: str, **fields) -> None:
    """Make the holder sign with ``kind`` (``config``, ``certificates``): an earlier credential
    of the bench made the same way is made active again, else one is registered."""
    from django.db import transaction

    from transcripts.credentials import register_credential
    from transcripts.models import CredentialKind, SigningCredential
    from transcripts.signing.sources import certificates_pem

    same = SigningCredential.objects.filter(school=signers.school, user=user, kind=kind)
    if kind != CredentialKind.PKCS12:  # demo_pki's file: the newest PKCS#12 credential
        same = same.filter(
            config=fields.get("config") or {},
            certificate_pem=certificates_pem(fields.get("certificates") or []),
        )
    existing = same.order_by("-pk").first()
    if existing is None and kind == CredentialKind.PKCS12:
        raise SystemExit("The signers have no PKCS#12 credential: run --prepare.")
    if existing is None:
        register_credential(
            school=signers.school,
            user=user,
            kind=kind,
            created_by=user or signers.principal,
            **fields,
        )
        return
    with transaction.atomic():
        SigningCredential.objects.filter(school=signers.school, user=user, is_active=True).exclude(
            pk=existing.pk
        ).update(is_active=False)
        SigningCredential.objects.filter(pk=existing.pk).update(is_active=True)


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Outside:
    """The parties outside the server, for every method: the CSC and phone-confirmation fakes
    (threads of this parent process, idle while a worker runs, so that their signing is not the
    worker's: on a real deployment it is another machine's), and the signing companion (its
    own process) with a SoftHSM2 token holding the three signers' keys, paired over HTTP as a
    browser pairs. ``use(method)`` makes the signers' active credentials that method's."""

    def __init__(self, args: argparse.Namespace, signers: Signers) -> None:
        self.args, self.signers = args, signers
        self.scratch = Path(tempfile.mkdtemp(prefix="sodiem-bench-methods-"))
        self.keys = signers.keys()
        self.csc = self.phone = None
        self.companion: subprocess.Popen | None = None
        self.companion_info: dict[str, str] = {}
        self.companion_log = self.scratch / "companion.log"

    def start(self, methods: list[str]) -> None:
        import secrets

        from django.conf import settings

        from transcripts.signing.demo_services import ConfirmServer, CscServer

        args = self.args
        self.csc = CscServer(
            credentials={
                account: (key, chain, BENCH_PIN) for account, (key, chain) in self.keys.items()
            },
            token=secrets.token_urlsafe(16),
            multisign=args.multisign,
        ).start()
        self.phone = ConfirmServer(self.keys, api_key=secrets.token_urlsafe(16)).start()
        for account in self.keys:
            self.phone.set_behaviour(account, "confirm")  # the signer confirms at once
        services = {
            CSC_SERVICE: {
                "adapter": "csc",
                "label": "bench CSC (fake)",
                "base_url": self.csc.base_url,
                "api_version": self.csc.api_version,
                "token": self.csc.token,
            },
            PHONE_SERVICE: {
                "adapter": "confirm-v1",
                "label": "bench phone confirmation (fake)",
                "base_url": self.phone.base_url,
                "api_key": self.phone.api_key,
            },
        }
        services_file = self.scratch / "signing-services.json"
        services_file.write_text(json.dumps(services))
        os.environ["SIGNING_SERVICES_FILE"] = str(services_file)  # the workers' settings
        settings.SIGNING_SERVICES = services
        if "companion" in methods:
            self._start_companion()

    # --- the signing companion and its token ----------------------------------------------------

    def _start_companion(self) -> None:
        from django.conf import settings

        conf = self._make_token()
        port = free_port()
        site = settings.SITE_URL.rstrip("/")
        command = [
            sys.executable, "-m", "sodiem_companion", "--site", site, "--lib", SOFTHSM_LIB,
            "--port", str(port), "--state-dir", str(self.scratch / "companion-state"),
            "--no-browser",
        ]  # fmt: skip
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT / "signer-companion"),
            "SOFTHSM2_CONF": str(conf),
        }
        with self.companion_log.open("wb") as log:
            self.companion = subprocess.Popen(  # noqa: S603 — the project's own companion
                command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                status, _body = http_call("GET", url + "/v1/status", origin=site)
            except OSError:
                status = 0
            if status == 200:
                break
            if self.companion.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"The signing companion did not start: {self.companion_log}")
            time.sleep(0.1)
        self.companion_info = {
            "url": url,
            "site": site,
            "token": self._pair(url, site),
            "pin": BENCH_PIN,
        }

    def _make_token(self) -> Path:
        """A SoftHSM2 token with the three signers' keys and certificates (made per run)."""
        from cryptography.hazmat.primitives import serialization

        util = shutil.which("softhsm2-util")
        if util is None or not Path(SOFTHSM_LIB).exists():
            raise SystemExit("SoftHSM2 is missing (softhsm2-util, libsofthsm2.so).")
        tokens = self.scratch / "tokens"
        tokens.mkdir()
        conf = self.scratch / "softhsm2.conf"
        conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\n")
        env = {**os.environ, "SOFTHSM2_CONF": str(conf)}
        init = [util, "--init-token", "--free", "--label", TOKEN_LABEL, "--pin", BENCH_PIN,
                "--so-pin", BENCH_PIN + "-so"]  # fmt: skip
        subprocess.run(init, check=True, capture_output=True, env=env)  # noqa: S603
        certificates = []
        for number, (account, (key, chain)) in enumerate(self.keys.items(), start=1):
            key_id = f"{number:02x}"
            pem = self.scratch / "key.pem"
            pem.write_bytes(
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
            pem.chmod(0o600)
            try:
                add = [util, "--import", str(pem), "--token", TOKEN_LABEL, "--label", account,
                       "--id", key_id, "--pin", BENCH_PIN]  # fmt: skip
                subprocess.run(add, check=True, capture_output=True, env=env)  # noqa: S603
            finally:
                pem.unlink()
            der = chain[0].public_bytes(serialization.Encoding.DER)
            certificates.append([account, key_id, der.hex()])
        # the certificates go next to the keys over PKCS#11, readable without the PIN as on real
        # tokens, in a child process (the library reads SOFTHSM2_CONF once per process)
        store = [sys.executable, "-c", _STORE_CERTIFICATES, SOFTHSM_LIB, TOKEN_LABEL, BENCH_PIN,
                 json.dumps(certificates)]  # fmt: skip
        subprocess.run(store, check=True, capture_output=True, env=env)  # noqa: S603
        return conf

    @staticmethod
    def _pair(url: str, site: str) -> str:
        """Pair as a person does: the page's code typed into the companion's own page."""
        status, body = http_call("POST", url + "/v1/pair", origin=site, body={"code": "BENCH234"})
        if status != 201:
            raise SystemExit(f"Companion pairing refused: {status} {body[:200]!r}")
        pairing = json.loads(body)["pairing_id"]
        status, _body = http_call(
            "POST",
            f"{url}/ui/pair/{pairing}",
            origin=url,
            form={"csrf": companion_csrf(url), "code": "bench-234", "action": "pair"},
        )
        status, body = http_call("GET", f"{url}/v1/pair/{pairing}", origin=site)
        answer = json.loads(body)
        if answer.get("status") != "paired" or not answer.get("token"):
            raise SystemExit(f"Companion pairing failed: {answer}")
        return answer["token"]

    def companion_requests(self) -> dict[str, int]:
        """What the companion's own log says it was asked: sign requests (POST /v1/sign) and
        PIN confirmations on its page (POST /ui/sign/…)."""
        text = self.companion_log.read_text(errors="replace") if self.companion else ""
        return {
            "sign": len(re.findall(r'"POST /v1/sign HTTP', text)),
            "confirm": len(re.findall(r'"POST /ui/sign/[^ ]+ HTTP', text)),
        }

    # --- per method -----------------------------------------------------------------------------

    def use(self, method: str) -> dict[str, object]:
        """Register (or make active again) the signers' credentials of ``method``; clear the
        services' counters; the worker's instructions."""
        from transcripts.models import CredentialKind

        for account, user in self.signers.holders().items():
            chain = self.keys[account][1]
            if method == "pkcs12":
                use_credential(self.signers, user, CredentialKind.PKCS12)
            elif method == "csc":
                config = {"service": CSC_SERVICE, "credential_id": account}
                use_credential(
                    self.signers, user, CredentialKind.REMOTE, config=config, certificates=chain
                )
            elif method == "phone":
                config = {"service": PHONE_SERVICE, "user_id": account}
                use_credential(
                    self.signers, user, CredentialKind.REMOTE, config=config, certificates=chain
                )
            else:
                use_credential(self.signers, user, CredentialKind.COMPANION, certificates=chain)
        self.csc.calls.clear()
        self.phone.calls.clear()
        self.companion_before = self.companion_requests()
        secret = {"pkcs12": DEMO_PASSWORD, "csc": BENCH_PIN}.get(method, "")
        return {"method": method, "secret": secret, "companion": self.companion_info}

    def cpu_seconds(self) -> tuple[float, float]:
        """CPU time used so far by this process (the fakes' threads; otherwise it waits for the
        workers) and by the companion's."""
        own = os.times()
        companion = 0.0
        if self.companion is not None:
            fields = Path(f"/proc/{self.companion.pid}/stat").read_text().rsplit(")", 1)[1].split()
            companion = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return own.user + own.system, companion

    def mark(self) -> None:
        """From now on (the worker's start), count the CPU time outside the worker."""
        self.cpu_before = self.cpu_seconds()

    def cpu_used(self) -> str:
        """CPU time of the parties holding the keys since ``mark``."""
        now = self.cpu_seconds()
        own, companion = (now[0] - self.cpu_before[0], now[1] - self.cpu_before[1])
        return (
            f"CPU outside the worker while it ran: this process (the CSC and phone fakes) "
            f"{own * 1000:.0f} ms, the companion process {companion * 1000:.0f} ms"
        )

    def service_side(self, method: str, worker: dict) -> tuple[int, str]:
        """The authorisations as the party holding the key counted them, and what they are."""
        if method == "pkcs12":
            calls = worker["sign_digests_calls"]
            return calls, f"{calls} sign_digests calls on the server-held key (PKCS#12)"
        if method == "csc":
            calls = self.csc.calls
            return calls["credentials/authorize"], (
                f"CSC credentials/authorize {calls['credentials/authorize']}, signatures/signHash "
                f"{calls['signatures/signHash']}, credentials/info {calls['credentials/info']}"
            )
        if method == "phone":
            calls = self.phone.calls
            return calls["submit"], (
                f"phone sign requests submitted {calls['submit']}, status polls "
                f"{calls['status']}, certificate look-ups {calls['certificate']}"
            )
        after = self.companion_requests()
        sign = after["sign"] - self.companion_before["sign"]
        confirm = after["confirm"] - self.companion_before["confirm"]
        return sign, (
            f"companion sign requests (POST /v1/sign, its log) {sign}, PIN confirmations on "
            f"its page {confirm}; the bench's browser sent {worker['browser']['sign']} and "
            f"polled {worker['browser']['polls']} times"
        )

    def close(self) -> None:
        """Stop the services and the companion; the signers sign with their PKCS#12 files again
        (what the other runs of this script use)."""
        from transcripts.models import CredentialKind

        try:
            for user in self.signers.holders().values():
                use_credential(self.signers, user, CredentialKind.PKCS12)
        finally:
            for service in (self.csc, self.phone):
                if service is not None:
                    service.stop()
            if self.companion is not None:
                self.companion.terminate()
                self.companion.wait(10)
            shutil.rmtree(self.scratch, ignore_errors=True)


_STORE_CERTIFICATES = """
import json, sys, pkcs11
from pkcs11 import Attribute, CertificateType, ObjectClass
from cryptography import x509
lib, label, pin, entries = sys.argv[1:]
token = pkcs11.lib(lib).get_token(token_label=label)
with token.open(user_pin=pin, rw=True) as session:
    for account, key_id, der in json.loads(entries):
        data = bytes.fromhex(der)
        session.create_object({
            Attribute.CLASS: ObjectClass.CERTIFICATE,
            Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
            Attribute.TOKEN: True,
            Attribute.PRIVATE: False,
            Attribute.LABEL: account,
            Attribute.ID: bytes.fromhex(key_id),
            Attribute.SUBJECT: x509.load_der_x509_certificate(data).subject.public_bytes(),
            Attribute.VALUE: data,
        })
"""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def http_call(
    method: str,
    url: str,
    *,
    origin: str | None = None,
    token: str | None = None,
    body: object = None,
    form: dict[str, str] | None = None,
) -> tuple[int, bytes]:
    """One HTTP request to the companion, as a browser sends it: (status, body)."""
    headers, data = {}, None
    if origin is not None:
        headers["Origin"] = origin
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310
    try:
        with _OPENER.open(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def companion_csrf(url: str) -> str:
    """The CSRF token of the companion's own page (what its forms carry)."""
    _status, page = http_call("GET", url + "/")
    return re.search(r'name="csrf" value="([^"]+)"', page.decode())[1]


class Browser:
    """The signer's browser and the person at the computer, for the signing companion: what the
    job page (static/js/companion.js) and the person do, over the same HTTP API."""

    def __init__(self, info: dict[str, str], poll_seconds: float) -> None:
        self.url, self.site = info.get("url", ""), info.get("site", "")
        self.token, self.pin = info.get("token", ""), info.get("pin", "")
        self.poll_seconds = poll_seconds
        self.counts = {"sign": 0, "confirm": 0, "polls": 0}

    def sign(self, batch: object) -> list[bytes]:
        """The batch's digests (as hocba:job_digests gives them) signed by the companion."""
        import base64
        import hashlib

        from cryptography.hazmat.primitives.serialization import Encoding

        from transcripts import batches
        from transcripts.signing.sources import Certificates

        certificate = Certificates.from_pem(batch.certificate_pem).certificate
        status, body = http_call(
            "POST",
            self.url + "/v1/sign",
            origin=self.site,
            token=self.token,
            body={
                "certificate_sha256": hashlib.sha256(
                    certificate.public_bytes(Encoding.DER)
                ).hexdigest(),
                "algorithm": "sha256",
                "digests": [base64.b64encode(d).decode() for d in batches.digests(batch)],
                "summary": batch.summary,
            },
        )
        self.counts["sign"] += 1
        if status != 202:
            raise SystemExit(f"The companion refused the batch: {status} {body[:300]!r}")
        request_id = json.loads(body)["request_id"]
        # the person reads the request on the companion's page, types the PIN, presses "Ký"
        status, _body = http_call(
            "POST",
            f"{self.url}/ui/sign/{request_id}",
            origin=self.url,
            form={"csrf": companion_csrf(self.url), "action": "sign", "pin": self.pin},
        )
        self.counts["confirm"] += 1
        deadline = time.monotonic() + 120
        while True:  # the page polls the companion
            _status, body = http_call(
                "GET", f"{self.url}/v1/sign/{request_id}", origin=self.site, token=self.token
            )
            self.counts["polls"] += 1
            state = json.loads(body)
            if state["status"] != "pending" or time.monotonic() > deadline:
                break
            time.sleep(self.poll_seconds)
        if state["status"] != "signed":
            raise SystemExit(f"The companion did not sign: {state['status']} {state['message']}")
        return [base64.b64decode(value) for value in state["signatures"]]


def wait_for_values(batch: object, browser: Browser, poll_seconds: float) -> None:
    """A job waits for its signer: the values come in as they would in production, only
    sooner (no 2 s poll task, no person reading): the phone service is polled (the signer there
    confirms at once), or the browser hands the digests to the companion and posts the values
    back (hocba:job_values: receive_values, after_batch)."""
    from transcripts import batches, jobs
    from transcripts.models import BatchStatus, CredentialKind

    if batch.method == CredentialKind.COMPANION:
        values = browser.sign(batch)
        batches.receive_values(batch=batch, values=values)
        jobs.after_batch(batch)
        return
    while jobs.poll_batch(batch.pk) == BatchStatus.WAITING:
        time.sleep(poll_seconds)


def drive_job(job_id: int, split: Split, browser: Browser, poll_seconds: float) -> dict:
    """run_job, and while the job waits for its signer, bring the values and run it again (a
    worker picking the re-queued job up)."""
    from transcripts.jobs import run_job, waiting_batch
    from transcripts.models import JobStatus, TranscriptJob

    summary = run_job(job_id)
    waits = 0
    while summary.get("status") == JobStatus.WAITING:
        batch = waiting_batch(TranscriptJob.objects.get(pk=job_id))
        if batch is None:
            break
        waits += 1
        split.run("wait", wait_for_values, batch, browser, poll_seconds)
        summary = run_job(job_id)
    return summary | {"waits": waits}


def child_method(args: argparse.Namespace) -> dict[str, object]:
    """One method over the class: the homeroom teacher's job [confirm, homeroom], then the
    principal's [principal, seal], each start_job(..., in_background=False) + run_job, with the
    waits of a method that answers later (see drive_job)."""
    setup_django(args.database_url)
    from django.db import connection

    from transcripts.jobs import start_job
    from transcripts.models import JobStep, Transcript, TranscriptJob
    from transcripts.signing.signers import Pkcs12Signer

    plan = json.loads(args.services.read_text())
    ids = json.loads(args.ids.read_text())
    transcripts = list(
        Transcript.objects.filter(pk__in=ids)
        .select_related("school", "year", "class_group__homeroom_teacher", "student")
        .order_by("pk")
    )
    school, year = transcripts[0].school, transcripts[0].year
    class_group = transcripts[0].class_group
    if any(t.class_group_id != class_group.pk for t in transcripts):
        raise SystemExit("--methods signs one class")
    principal = principal_of(school)
    warm_up_pipeline(transcripts[0], principal)
    calls = {"sign_digests": 0}
    sign_digests = Pkcs12Signer.sign_digests

    def counted(self, *a, **kw):
        calls["sign_digests"] += 1
        return sign_digests(self, *a, **kw)

    Pkcs12Signer.sign_digests = counted
    browser = Browser(plan["companion"], args.poll_seconds)
    secret = plan["secret"]
    split = Split()
    split.install()
    after_setup = rss_kib()
    summaries = []
    start = release_point()
    with connection.execute_wrapper(split.sql):
        for actor, steps, group in (
            (class_group.homeroom_teacher, [JobStep.CONFIRM, JobStep.HOMEROOM], class_group),
            (principal, [JobStep.PRINCIPAL, JobStep.SEAL], None),
        ):
            job = start_job(
                actor=actor,
                school=school,
                year=year,
                transcripts=transcripts,
                steps=steps,
                secrets={step: secret for step in steps if step != JobStep.CONFIRM},
                class_group=group,
                in_background=False,
            )
            summaries.append(drive_job(job.pk, split, browser, args.poll_seconds))
            if len(summaries) == 1:
                homeroom_done = time.monotonic()
        end = time.monotonic()
    jobs = list(TranscriptJob.objects.filter(pk__in=[s["job"] for s in summaries]))
    return {
        "start": start,
        "end": end,
        "homeroom_seconds": homeroom_done - start,
        "principal_seconds": end - homeroom_done,
        "documents": len(transcripts),
        "jobs": [job.pk for job in jobs],
        "job_status": {job.pk: (job.status, job.message) for job in jobs},
        "failed": sum(len(job.failures) for job in jobs),
        "waits": sum(s["waits"] for s in summaries),
        "sign_digests_calls": calls["sign_digests"],
        "browser": browser.counts,
        "queries": split.calls["sql"],
        "split": {"seconds": split.seconds, "calls": split.calls},
        "rss_after_setup_kib": after_setup["VmRSS"],
    }


@dataclass
class MethodResult:
    method: str
    run: Run
    bare: Run
    batches: int
    authorisations: int
    service: int
    service_text: str
    problems: list[str]
    round: int = 1


def method_figures(method: str, outside: Outside, run: Run, ids: list[int]) -> MethodResult:
    """Check a method's run: 45 final transcripts, three batches, three authorisations in the
    batches and at the party holding the key."""
    from transcripts.models import JobStatus, SigningBatch

    worker = run.workers[0]
    batches = list(SigningBatch.objects.filter(job_id__in=worker["jobs"]).order_by("pk"))
    authorisations = sum(batch.authorisations for batch in batches)
    service, service_text = outside.service_side(method, worker)
    problems = []
    figures = document_figures(ids)
    if figures["not_final"]:
        problems.append(f"{len(figures['not_final'])} of {len(ids)} transcripts are not final")
    for job, (status, message) in worker["job_status"].items():
        if status != JobStatus.FINISHED:
            problems.append(f"job {job} ended {status}: {message}")
    if worker["failed"]:
        problems.append(f"{worker['failed']} students failed in the jobs")
    if len(batches) != EXPECTED_AUTHORISATIONS:
        problems.append(f"{len(batches)} signing batches, not {EXPECTED_AUTHORISATIONS}")
    if authorisations != EXPECTED_AUTHORISATIONS:
        roles = ", ".join(f"{b.role} {b.authorisations}" for b in batches)
        problems.append(
            f"{authorisations} authorisations in the batches ({roles}), not "
            f"{EXPECTED_AUTHORISATIONS}"
        )
    if service != EXPECTED_AUTHORISATIONS:
        problems.append(
            f"{service} authorisations at the key's side, not {EXPECTED_AUTHORISATIONS}"
        )
    return MethodResult(
        method, run, Run("bare"), len(batches), authorisations, service, service_text, problems
    )


def describe_method(result: MethodResult) -> str:
    run, bare = result.run, result.bare
    ms, calls, wall = split_ms(run)
    render = sum(ms[b] for b in RENDER_BUCKETS)
    documents = run.documents
    worker = run.workers[0]
    verdict_text = "ok" if not result.problems else "FAILED: " + "; ".join(result.problems)
    return (
        f"  {documents} documents in {run.seconds:.1f} s: {run.rate:.2f} documents/s (render "
        f"included); bare WeasyPrint, same documents, next: {bare.rate:.2f} documents/s; ratio "
        f"{run.rate / bare.rate:.2f}\n"
        f"  render step {render * documents / 1000:.1f} s, signing and the rest "
        f"{(wall - render) * documents / 1000:.1f} s: {1000 / (wall - render):.2f} documents/s "
        f"without the render step; confirm+homeroom {worker['homeroom_seconds']:.1f} s, "
        f"principal+seal {worker['principal_seconds']:.1f} s\n"
        f"  per document: render {render:.0f} ms, PAdES {ms['pades']:.1f}, XAdES "
        f"{ms['xades']:.1f}, values {ms['values']:.1f}, waiting for the signer "
        f"{ms['wait']:.1f} ({worker['waits']} waits), SQL {ms['sql'] + ms['commit']:.1f} "
        f"({calls['sql']:.0f} queries), certificates {ms['open'] + ms['check']:.1f}, files "
        f"{ms['files']:.1f}, other {ms['other']:.1f} ms\n"
        f"  authorisations: {result.authorisations} in {result.batches} batches "
        f"(SigningBatch.authorisations); at the key's side: {result.service_text}\n"
        f"  {memory(run)}\n"
        f"  authorisations exactly {EXPECTED_AUTHORISATIONS}, every transcript final: "
        f"{verdict_text}"
    )


def methods_run(args: argparse.Namespace) -> int:
    """--methods: each signing method in turn over one class (see the module's docstring)."""
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        raise SystemExit(f"Unknown methods {unknown}: choose among {', '.join(METHODS)}")
    signers = methods_class(args.class_size)
    print(
        f"class {signers.class_group.name} of {signers.school.code}: the first "
        f"{args.class_size} transcripts; signers {signers.homeroom.username} (homeroom), "
        f"{signers.principal.username} (principal), the school seal\n"
        f"each method: the two jobs in a fresh worker process (set up and warmed up, then "
        f"timed); the CSC and phone fakes run as threads of the parent process, the companion "
        f"in its own process; the bench plays the browser and the person in the worker; "
        f"waiting batches polled every {args.poll_seconds} s (production: the poll task every "
        f"2 s, the job page every 1 s); then bare WeasyPrint over the same documents, in a "
        f"fresh process",
        flush=True,
    )
    outside = Outside(args, signers)
    results: list[MethodResult] = []
    try:
        outside.start(methods)
        for number in range(1, args.rounds + 1):
            order = methods if number % 2 else methods[::-1]  # alternate: drift cancels out
            for method in order:
                result = method_once(args, outside, signers, method)
                result.round = number
                results.append(result)
                print(f"{method}, round {number}:\n{describe_method(result)}", flush=True)
    finally:
        outside.close()
    print(methods_summary(args, methods, results))
    failed = [r for r in results if r.problems]
    for r in failed:
        print(f"FAILED {r.method}, round {r.round}: " + "; ".join(r.problems))
    print(f"load average at the end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    return 1 if failed else 0


def method_once(
    args: argparse.Namespace, outside: Outside, signers: Signers, method: str
) -> MethodResult:
    """The class put back to draft, signed by the method's worker, then bare WeasyPrint."""
    plan = outside.use(method)
    ids = reset_documents(args.class_size, class_pk=signers.class_group.pk)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(plan, handle)
    try:
        extra = ("--services", handle.name, "--poll-seconds", str(args.poll_seconds))
        outside.mark()
        run = run_workers(args, "method", [ids], *extra)
    finally:
        os.unlink(handle.name)
    cpu = outside.cpu_used()
    result = method_figures(method, outside, run, ids)
    result.service_text += f"\n  {cpu}"
    result.bare = run_workers(args, "bare", [ids])
    return result


def methods_summary(args: argparse.Namespace, methods: list[str], results: list) -> str:
    """One line per method: authorisations, documents/s per round (render included) and the
    bare render run next to each, and the ratios."""
    lines = [
        f"summary, class of {args.class_size}, three signers, {args.rounds} round(s); "
        f"documents/s over the whole signing, render included (median of the rounds):",
        "  method     authorisations      documents/s (rounds)   median  bare next  ratio",
    ]
    for method in methods:
        mine = [r for r in results if r.method == method]
        rates = [r.run.rate for r in mine]
        ratios = [r.run.rate / r.bare.rate for r in mine]
        counted = {(r.authorisations, r.service) for r in mine}
        authorisations = ", ".join(f"{a} / {s}" for a, s in sorted(counted))
        lines.append(
            f"  {method:<10} {authorisations:<19} {', '.join(f'{x:.2f}' for x in rates):<22} "
            f"{statistics.median(rates):6.2f} {statistics.median(r.bare.rate for r in mine):10.2f} "
            f"{statistics.median(ratios):6.2f}{'  FAILED' if any(r.problems for r in mine) else ''}"
        )
    bare = [r.bare.rate for r in results]
    lines.append(
        f"  (authorisations: in the batches / at the key's side; bare WeasyPrint over the run "
        f"{min(bare):.2f}–{max(bare):.2f} documents/s, median {statistics.median(bare):.2f}; "
        f"ratio: the median of each run over the bare render run right after it)"
    )
    return "\n".join(lines)


# --- PAdES levels (--pades-level): B-B, B-T, B-LT, B-LTA against the test PKI --------------------


class TestPki:
    """--pades-level: the tests' certomancer PKI (tests/transcripts/pki_certomancer.py: root CA,
    school CA, OCSP responder, CRLs, time-stamping authorities), its animator serving them over
    a socket on 127.0.0.1 (an ephemeral port) in threads of this parent process, idle while a
    worker runs. Besides the tests' own signers it issues one certificate per bench signer — each
    homeroom teacher of the school and the principal (CN = their names), the seal (CN = O = the
    school's name): the names ``check_certificate_for`` compares — with the tests' OCSP and CRL
    endpoints; they are the signers' active PKCS#12 credentials (password DEMO_PASSWORD) while
    the levels run, and the earlier ones are made active again at the end. Every request it
    answers is recorded: when (CLOCK_MONOTONIC, comparable with the workers'), the CPU time of
    its handling thread, the path."""

    def __init__(self, school: object) -> None:
        self.school = school
        self.scratch = Path(tempfile.mkdtemp(prefix="sodiem-bench-pki-"))
        self.stack = contextlib.ExitStack()
        self.requests: list[tuple[float, float, str]] = []
        self.created: list[int] = []
        self.previous: list[int] = []
        self.environ: dict[str, str | None] = {}
        self.pki = None
        self.warm_up_p12 = self.scratch / "principal.p12"

    def start(self) -> None:
        import logging
        from unittest import mock

        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.serialization import pkcs12
        from django.db.models import Q

        from schools.models import ClassGroup
        from tests.transcripts import pki_certomancer as certomancer
        from transcripts.credentials import register_credential
        from transcripts.models import CredentialKind, SigningCredential

        school, principal = self.school, principal_of(self.school)
        teachers = {
            c.homeroom_teacher
            for c in ClassGroup.objects.filter(
                year=school.current_year(), homeroom_teacher__isnull=False
            ).select_related("homeroom_teacher")
        }
        holders: dict[str, tuple[object | None, dict[str, str]]] = {
            f"bench-homeroom-{number}": (user, {"common-name": user.display_name})
            for number, user in enumerate(sorted(teachers, key=lambda u: u.pk), start=1)
        }
        holders["bench-principal"] = (principal, {"common-name": principal.display_name})
        holders["bench-seal"] = (
            None,
            {"common-name": school.name, "organization-name": school.name},
        )
        subjects = {label: subject for label, (_user, subject) in holders.items()}
        with (
            mock.patch.dict(certomancer.SIGNERS, subjects),
            mock.patch.object(certomancer, "KEYS", (*certomancer.KEYS, *holders)),
        ):
            self.pki = self.stack.enter_context(certomancer.serve(self.scratch))
        dispatch = self.pki.animator.dispatch

        def counting(request):
            begun, cpu = time.monotonic(), time.thread_time()
            try:
                return dispatch(request)
            finally:
                handled = (time.monotonic() - begun, time.thread_time() - cpu)
                self.requests.append((begun, *handled, request.path))

        self.pki.animator.dispatch = counting
        # certomancer loads the signing key from DER for every answer it signs (~55 ms of CPU
        # for RSA-2048 with cryptography's key check: most of a request's handling); a real
        # TSA or OCSP responder keeps its key loaded, so this process keeps each one loaded
        load_key = functools.lru_cache(maxsize=64)(serialization.load_der_private_key)
        self.stack.enter_context(mock.patch.object(serialization, "load_der_private_key", load_key))
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request
        people = [user for user, _subject in holders.values() if user is not None]
        self.previous = list(
            SigningCredential.objects.filter(school=school, is_active=True)
            .filter(Q(user__in=people) | Q(user__isnull=True))
            .values_list("pk", flat=True)
        )
        for label, (user, _subject) in holders.items():
            data = self.pki.p12(label, password=DEMO_PASSWORD)
            _key, certificate, chain = pkcs12.load_key_and_certificates(
                data, DEMO_PASSWORD.encode()
            )
            credential = register_credential(
                school=school,
                user=user,
                kind=CredentialKind.PKCS12,
                created_by=user or principal,
                pkcs12=data,
                certificates=[certificate, *chain],
            )
            self.created.append(credential.pk)
        self.warm_up_p12.write_bytes(self.pki.p12("bench-principal", password=DEMO_PASSWORD))
        # the workers' trust anchors (configure() sets the demo CA's in every process)
        self.anchors = f"{os.environ['SIGNING_TRUST_ANCHORS']},{self.pki.root_pem}"
        self._set("SIGNING_TSA_URL", self.pki.tsa_url)
        self._set("SIGNING_REVOCATION", "require")
        print(
            f"test PKI (certomancer, tests/transcripts/pki_certomancer.py) at "
            f"{self.pki.base_url}: TSA {self.pki.tsa_url}, OCSP responder and CRLs of the school "
            f"CA and the root; {len(holders)} signers' certificates issued (root → school CA → "
            f"signer, RSA-2048) and registered; workers' settings SIGNING_TSA_URL as above, "
            f"SIGNING_REVOCATION=require, SIGNING_FETCH_TIMEOUT="
            f"{os.environ.get('SIGNING_FETCH_TIMEOUT', '10 (default)')}, SIGNING_PADES_LEVEL per "
            f"level",
            flush=True,
        )

    def _set(self, name: str, value: str) -> None:
        self.environ.setdefault(name, os.environ.get(name))
        os.environ[name] = value  # the workers' settings

    def use(self, level: str) -> None:
        self._set("SIGNING_PADES_LEVEL", level)

    def answered(self, start: float, end: float) -> tuple[dict[str, int], float, float]:
        """Requests received between ``start`` and ``end`` by kind (tsa, ocsp, crls, certs, …),
        and the wall and CPU seconds their handling took (from the request parsed to the
        answer built)."""
        counts = dict.fromkeys(("tsa", "ocsp", "crls", "certs"), 0)
        wall = cpu = 0.0
        for at, seconds, cpu_seconds, path in list(self.requests):
            if start <= at <= end:
                kind = path.strip("/").split("/")[1] if path.count("/") > 1 else path
                counts[kind] = counts.get(kind, 0) + 1
                wall += seconds
                cpu += cpu_seconds
        return counts, wall, cpu

    def close(self) -> None:
        """The signers' earlier credentials active again (the test PKI's deleted with the jobs
        that used them), the settings as they were, the service stopped."""
        from django.db.models import ProtectedError

        from transcripts.models import SigningCredential

        try:
            _remove_earlier_jobs()  # their batches point at the test PKI's credentials
            mine = SigningCredential.objects.filter(pk__in=self.created)
            try:
                mine.delete()
            except ProtectedError:
                mine.update(is_active=False)
                print("WARNING: the test PKI's credentials are kept (inactive): still referenced")
            SigningCredential.objects.filter(pk__in=self.previous).update(is_active=True)
        finally:
            for name, value in self.environ.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            self.stack.close()
            shutil.rmtree(self.scratch, ignore_errors=True)


@dataclass
class LevelResult:
    level: str
    run: Run
    bare: Run
    figures: dict
    requests: dict[str, int]
    service_wall: float
    service_cpu: float
    problems: list[str]
    round: int = 1


def level_once(args: argparse.Namespace, pki: TestPki, level: str) -> LevelResult:
    """The pipeline at ``level`` (the chosen documents put back to draft, confirmed, signed by
    the three signers in a fresh worker), then bare WeasyPrint over the same documents."""
    from transcripts.models import JobStatus

    pki.use(level)
    run, figures = pipeline_run(
        args, 1, "--warm-up-p12", str(pki.warm_up_p12), "--trust-anchors", pki.anchors
    )
    worker = run.workers[0]
    requests, wall, cpu = pki.answered(worker["start"], worker["end"])
    problems = []
    if figures["not_final"]:
        problems.append(f"{len(figures['not_final'])} transcripts are not final")
    if worker["failed"]:
        problems.append(f"{worker['failed']} students failed in the jobs")
    for summary in worker["not_finished"]:
        if summary.get("status") != JobStatus.FINISHED:
            problems.append(f"a job ended {summary.get('status')}: {summary}")
    bare = run_workers(args, "bare", [figures["ids"]])
    return LevelResult(level, run, bare, figures, requests, wall, cpu, problems)


def describe_level(result: LevelResult) -> str:
    run, bare, figures = result.run, result.bare, result.figures
    documents = run.documents
    ms, calls, _wall = split_ms(run)
    per = {kind: count / documents for kind, count in result.requests.items()}
    other = {k: v for k, v in result.requests.items() if k not in ("tsa", "ocsp", "crls", "certs")}
    others = f", other {other}" if other else ""
    verdict_text = "ok" if not result.problems else "FAILED: " + "; ".join(result.problems)
    return (
        f"  {documents} documents in {run.seconds:.1f} s: {run.rate:.2f} documents/s (render "
        f"included); bare WeasyPrint, same documents, next: {bare.rate:.2f} documents/s; ratio "
        f"{run.rate / bare.rate:.2f}\n"
        f"  {describe_ltv(ms, calls, documents)}\n"
        f"  requests the test PKI answered while the worker ran, per document: TSA "
        f"{per['tsa']:.2f}, OCSP {per['ocsp']:.2f}, CRL {per['crls']:.2f}, certificates "
        f"{per['certs']:.2f} (in all {result.requests['tsa']} / {result.requests['ocsp']} / "
        f"{result.requests['crls']} / {result.requests['certs']}"
        f"{others}); their handling {result.service_wall * 1000 / documents:.1f} ms per "
        f"document, CPU {result.service_cpu * 1000 / documents:.1f} ms (threads of this "
        f"process, on the same 2 cores: part of the LTV ms above)\n"
        f"  median per document: PDF {figures['median_size'] / 1024:.1f} KiB (mean "
        f"{figures['mean_size'] / 1024:.1f}), XML {figures['median_xml_size'] / 1024:.1f} KiB; "
        f"{figures['pages'] / documents:.2f} pages\n"
        f"{describe_split(run, bare)}\n"
        f"  {memory(run)}\n"
        f"  every transcript final, every job finished: {verdict_text}"
    )


def verify_b_lta(args: argparse.Namespace, pki: TestPki, ids: list[int]) -> list[str]:
    """The first document's B-LTA PDF checked by pdfsig (judged as docs/signing.md says: three
    signatures "Signature is Valid.", the document time-stamp not verified by poppler), by
    ``pyhanko sign adesverify`` (offline) and by the project's check_pdf (offline: each
    signature time-stamped). Copied with the test PKI's root to MEDIA_ROOT/bench-ltv/ for
    checking by hand. Returns the problems."""
    from transcripts.models import Transcript
    from transcripts.signing.ltv import TIMESTAMPED
    from transcripts.signing.pdf_validation import check_pdf

    keep = Path(args.media_root) / "bench-ltv"
    keep.mkdir(parents=True, exist_ok=True)
    version = Transcript.objects.get(pk=ids[0]).current_version
    with version.pdf_file.open("rb") as handle:
        pdf = handle.read()
    path, root = keep / "hocba-B-LTA.pdf", keep / "test-pki-root.pem"
    path.write_bytes(pdf)
    shutil.copyfile(pki.pki.root_pem, root)
    problems: list[str] = []
    nss = pki.scratch / "nssdb"
    nss.mkdir(exist_ok=True)
    certutil, pdfsig = shutil.which("certutil"), shutil.which("pdfsig")
    if certutil is None or pdfsig is None:
        problems.append("pdfsig / certutil missing (apt-get install poppler-utils libnss3-tools)")
    else:
        for command in (
            [certutil, "-N", "--empty-password", "-d", f"sql:{nss}"],
            [certutil, "-A", "-n", "ca", "-t", "C,C,C", "-i", str(root), "-d", f"sql:{nss}"],
        ):
            subprocess.run(command, check=True, capture_output=True)  # noqa: S603
        report = subprocess.run(  # noqa: S603 — pdfsig exits 0 whatever it finds: read it
            [pdfsig, "-nssdir", f"sql:{nss}", str(path)], capture_output=True, text=True
        ).stdout
        lines = report.splitlines()
        signatures = len(re.findall(r"^Signature #\d+:", report, re.M))
        valid = lines.count("  - Signature Validation: Signature is Valid.")
        unverified = lines.count("  - Signature Validation: Signature has not yet been verified.")
        certificates = sorted(
            {line.strip() for line in lines if line.startswith("  - Certificate Validation:")}
        )
        print(
            f"  pdfsig {path}: {signatures} signatures, {valid} × 'Signature is Valid.', "
            f"{unverified} × 'Signature has not yet been verified.' (the document time-stamp); "
            f"certificate lines: {certificates}"
        )
        print("\n".join(f"    | {line}" for line in lines if line.strip()))
        if (signatures, valid, unverified) != (4, 3, 1):
            problems.append(
                f"pdfsig: {signatures} signatures, {valid} valid, {unverified} unverified"
            )
    cli = Path(sys.executable).with_name("pyhanko")
    if cli.exists():
        run = subprocess.run(  # noqa: S603 — pyhanko-cli, the [test] extra
            [str(cli), "sign", "adesverify", "--trust", str(root), "--trust-replace",
             "--no-revocation-check", str(path)],
            capture_output=True, text=True,
        )  # fmt: skip
        verdicts = [line for line in run.stdout.splitlines() if line.strip()]
        print(f"  pyhanko sign adesverify (exit {run.returncode}):")
        print("\n".join(f"    | {line}" for line in verdicts))
        if run.returncode or not all(
            "INTACT:TRUSTED" in line and "TIMESTAMP_TOKEN<INTACT:TRUSTED>" in line
            for line in verdicts
        ):
            problems.append(f"pyhanko adesverify: {run.stdout[-300:]} {run.stderr[-300:]}")
    statuses = [c.status for c in check_pdf(pdf, anchors=[pki.pki.cert("root")], online=False)]
    print(f"  check_pdf (offline, the DSS's data): {statuses}")
    if statuses != [TIMESTAMPED] * 3:
        problems.append(f"check_pdf: {statuses}")
    return problems


def levels_run(args: argparse.Namespace) -> int:
    """--pades-level: the pipeline at each level in turn (see the module's docstring)."""
    from schools.demo import LARGE_CODE
    from schools.models import School

    levels = [
        level.strip().upper()
        for value in args.pades_level
        for level in value.split(",")
        if level.strip()
    ]
    unknown = sorted(set(levels) - set(PADES_LEVELS))
    if unknown:
        raise SystemExit(f"Unknown levels {unknown}: choose among {', '.join(PADES_LEVELS)}")
    print(
        f"levels {', '.join(levels)}, {args.rounds} round(s) in alternating order: per level the "
        f"first {args.documents} transcripts through the jobs (confirm+homeroom per class, then "
        f"principal+seal) in a fresh worker process (set up and warmed up with the principal's "
        f"key at the level), then bare WeasyPrint over the same documents in a fresh process",
        flush=True,
    )
    pki = TestPki(School.objects.get(code=LARGE_CODE))
    results: list[LevelResult] = []
    problems: list[str] = []
    try:
        pki.start()
        for number in range(1, args.rounds + 1):
            for level in levels if number % 2 else levels[::-1]:
                result = level_once(args, pki, level)
                result.round = number
                results.append(result)
                print(f"{level}, round {number}:\n{describe_level(result)}", flush=True)
                if level == "B-LTA" and not any(r.level == "B-LTA" for r in results[:-1]):
                    found = verify_b_lta(args, pki, result.figures["ids"])
                    problems += [f"B-LTA file: {p}" for p in found]
                    print(f"  B-LTA file: {'ok' if not found else 'FAILED: ' + '; '.join(found)}")
    finally:
        pki.close()
    print(levels_summary(args, levels, results))
    problems += [f"{r.level}, round {r.round}: {p}" for r in results for p in r.problems]
    for problem in problems:
        print(f"FAILED {problem}")
    print(f"load average at the end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    return 1 if problems else 0


def levels_summary(args: argparse.Namespace, levels: list[str], results: list) -> str:
    """One line per level: documents/s (rounds), the bare render next, the ratio, LTV ms, the
    requests and the median sizes per document (medians over the rounds)."""
    lines = [
        f"summary, {args.documents} documents, three signers, {args.rounds} round(s) "
        f"(medians of the rounds); documents/s render included:",
        "  level  documents/s (rounds)  median  bare next  ratio   LTV ms/doc (TSA + fetch + "
        "DSS + doc TS + XAdES-T)   TSA  OCSP   CRL per doc   PDF KiB  XML KiB",
    ]
    for level in levels:
        mine = [r for r in results if r.level == level]
        if not mine:
            continue
        rates = [r.run.rate for r in mine]
        splits = [split_ms(r.run)[0] for r in mine]
        parts = {b: statistics.median(s[b] for s in splits) for b in LTV_BUCKETS}

        def per(kind: str, mine=mine) -> float:
            return statistics.median(r.requests[kind] / r.run.documents for r in mine)

        breakdown = " + ".join(f"{parts[b]:.1f}" for b in LTV_BUCKETS)
        ltv_total = statistics.median(sum(s[b] for b in LTV_BUCKETS) for s in splits)
        lines.append(
            f"  {level:<6} {', '.join(f'{x:.2f}' for x in rates):<21} "
            f"{statistics.median(rates):6.2f} {statistics.median(r.bare.rate for r in mine):10.2f} "
            f"{statistics.median(r.run.rate / r.bare.rate for r in mine):6.2f} "
            f"{ltv_total:7.0f} ({breakdown}){'':<4}"
            f"{per('tsa'):5.2f} {per('ocsp'):5.2f} {per('crls'):5.2f}         "
            f"{statistics.median(r.figures['median_size'] for r in mine) / 1024:7.1f} "
            f"{statistics.median(r.figures['median_xml_size'] for r in mine) / 1024:8.1f}"
            f"{'  FAILED' if any(r.problems for r in mine) else ''}"
        )
    bare = [r.bare.rate for r in results]
    lines.append(
        f"  (bare WeasyPrint over the run {min(bare):.2f}–{max(bare):.2f} documents/s, median "
        f"{statistics.median(bare):.2f}; ratio: each run over the bare render run right after "
        f"it; sizes: the median document's final PDF and XML)"
    )
    return "\n".join(lines)


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
    documents = run.documents
    render = sum(ms[b] for b in RENDER_BUCKETS)
    signatures = ms["pades"] + ms["xades"]
    sql = ms["sql"] + ms["commit"]

    def each(bucket: str, phases: int = 1) -> float:
        """ms per call (per signature for the two-phase buckets: prepare + finish)."""
        return ms[bucket] * phases / calls[bucket] if calls[bucket] else 0.0

    values = (calls["pades"] + calls["xades"]) / 2  # signature values per document
    lines = [
        f"  time per document: {wall:.0f} ms =",
        f"    render step {render:.0f} ms: year results {ms['results']:.1f} "
        f"({calls['results']:.1f} computations), snapshot {ms['snapshot']:.1f}, XML "
        f"{ms['xml']:.1f}, HTML {ms['html']:.1f}, WeasyPrint PDF/A-3 {ms['pdf']:.0f}",
        f"    + signatures {signatures:.0f} ms (prepare + finish): {calls['pades'] / 2:.1f} "
        f"PAdES × {each('pades', 2):.1f} ms, {calls['xades'] / 2:.1f} XAdES × "
        f"{each('xades', 2):.1f} ms",
        f"    + signature values {ms['values']:.1f} ms: {calls['values'] * documents:.0f} "
        f"requests to the signers for {values * documents:.0f} values "
        f"({ms['values'] / values if values else 0:.2f} ms per value)",
        f"    + SQL {sql:.0f} ms: {calls['sql']:.0f} queries {ms['sql']:.1f} ms, "
        f"{calls['commit']:.1f} commits {ms['commit']:.1f} ms",
        f"    + certificates {ms['open'] + ms['check']:.0f} ms: opened twice per signing step "
        f"(start_job's check, then the batch), {ms['open']:.1f} ms "
        f"({calls['open'] * documents:.0f} times here); checked {ms['check']:.1f} ms "
        f"({calls['check'] * documents:.0f} times: the certificate when opened, each value "
        f"when it arrives)",
        f"    + files {ms['files']:.1f} ms: rendered, prepared and signed files stored, read "
        f"back and deleted, SHA-256",
    ]
    if calls["wait"]:
        lines.append(
            f"    + waiting for the signer {ms['wait']:.0f} ms ({calls['wait'] * documents:.0f} "
            f"waits: polling, or the companion signing, the bench playing the browser)"
        )
    if any(calls[bucket] for bucket in LTV_BUCKETS):
        lines.append(f"    + {describe_ltv(ms, calls, documents)}")
    lines.append(f"    + other {ms['other']:.0f} ms: ORM, job bookkeeping, the rest")
    if bare is not None:
        bare_ms = bare.seconds * 1000 / bare.documents * len(bare.workers)
        lines.append(
            f"  render step alone: {render:.0f} ms/document = {render / bare_ms:.2f} × bare "
            f"WeasyPrint's {bare_ms:.0f} ms/document (its PDF/A-3 + attachment part "
            f"{ms['pdf']:.0f} ms = {ms['pdf'] / bare_ms:.2f} ×); each signature costs PAdES "
            f"{each('pades', 2):.1f} ms, XAdES {each('xades', 2):.1f} ms; everything else "
            f"{wall - render - signatures:.0f} ms/document"
        )
    return "\n".join(lines)


def describe_ltv(ms: dict[str, float], calls: dict[str, float], documents: int) -> str:
    """The long-term validation steps' ms per document (each less the requests inside it)."""
    total = sum(ms[bucket] for bucket in LTV_BUCKETS)
    return (
        f"LTV {total:.0f} ms: time-stamp requests {ms['tsa']:.1f} ms ({calls['tsa']:.2f} per "
        f"document); OCSP / CRL / certificate fetches {ms['fetch']:.1f} ms "
        f"({calls['fetch'] * documents:.0f} in all, the batches' revocation checks included); "
        f"validation data into the DSS (B-LT) {ms['dss']:.1f} ms ({calls['dss']:.1f} per "
        f"document); document time-stamp (B-LTA) {ms['doc_ts']:.1f} ms ({calls['doc_ts']:.1f}); "
        f"XAdES-T {ms['xades_t']:.1f} ms ({calls['xades_t']:.1f})"
    )


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
    if args.trust_anchors:  # --pades-level's workers: the demo CA's and the test PKI's root
        os.environ["SIGNING_TRUST_ANCHORS"] = args.trust_anchors
    os.environ["TASKS_BACKEND"] = "db"  # start_job only records the task; the workers run it
    if args.child:
        children = {"pipeline": child_pipeline, "bare": child_bare, "method": child_method}
        outcome = children[args.child](args)
        args.result.write_text(json.dumps(outcome), encoding="utf-8")
        return 0
    if args.prepare:
        return prepare(args)
    setup_django(args.database_url)
    print(environment(args), flush=True)
    if args.methods:
        return methods_run(args)
    if args.pades_level:
        return levels_run(args)
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
