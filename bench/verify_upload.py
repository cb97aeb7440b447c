"""Time the public page's checks of an uploaded package (issue 18, finding 4): the worst cases
an anonymous visitor can send within VERIFY_PACKAGE_MAX_BYTES, and a genuine large package.

    DEBUG=1 .venv/bin/python bench/export.py --prepare --students 280 \\
        --database-url postgres://postgres@127.0.0.1:5432/sodiem_bench_verify \\
        --media-root /tmp/sodiem-bench-verify-media          # once: a genuine signed school
    DEBUG=1 .venv/bin/python bench/export.py --no-verify --students 280 \\
        --database-url postgres://postgres@127.0.0.1:5432/sodiem_bench_verify \\
        --media-root /tmp/sodiem-bench-verify-media          # its package
    DEBUG=1 .venv/bin/python bench/verify_upload.py [--package FILE.zip] [--before [REV]]

Cases, each built in memory and run in a fresh child process (forked after set-up):

- ``bomb``: members named as a package's transcripts, each a run of zeros deflated ~1000 times,
  as many as fit the upload limit (the 14 MB upload that unzipped to 2.4 GB);
- ``bomb-sealed-ratio``: the genuine package with one PDF replaced by 6 MB deflating ~80 times
  (under the old ratio limit of 200) — without a valid seal over it, as an attacker has none;
- ``dense-manifest``: the genuine package with its manifest replaced by 2 MiB of ``<a/>``,
  stored (so the compression ratio does not refuse it first);
- ``genuine``: the genuine package as it is.

For each, "page": what the page runs synchronously (``verify_package`` with
``Limits.public()``, the transcripts' signatures only for VERIFY_PACKAGE_INLINE_TRANSCRIPTS or
fewer), and for the genuine package "job": what the worker runs (the whole check, under the
same limits). Printed: wall time, the bytes inflated out of the ZIP (counted by wrapping
``zipfile.ZipExtFile.read``), Python's peak allocation (tracemalloc) and the child's peak RSS
(getrusage) over its RSS at the fork. ``--before`` runs the same cases through the verifier as
it was before issue 18 made its checks cheap first (commit 53d3aad, when it was one module,
``git show 53d3aad:transcripts/packages/verify.py``; another REV that has that file may be
given) for comparison.
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import os
import resource
import subprocess
import sys
import time
import tracemalloc
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT

DEFAULT_MEDIA_ROOT = "/tmp/sodiem-bench-verify-media"  # noqa: S108 — a benchmark's scratch


def arguments() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--media-root", default=DEFAULT_MEDIA_ROOT)
    parser.add_argument("--package", type=Path, help="a genuine package (default: the newest "
                        "under MEDIA_ROOT/packages)")  # fmt: skip
    parser.add_argument(
        "--before", nargs="?", const=BEFORE, default=None, metavar="REV",
        help=f"also run the single-module verifier of REV (default {BEFORE})",
    )  # fmt: skip
    return parser


def setup(media_root: Path) -> None:
    os.environ.setdefault("DEBUG", "1")
    os.environ["MEDIA_ROOT"] = str(media_root)
    os.environ["SIGNING_TRUST_ANCHORS"] = str(media_root / "demo-pki" / "demo-ca.pem")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


#: The commit whose verifier --before measures: the last one before issue 18's cheap checks.
BEFORE = "53d3aad"


def old_verifier(rev: str = BEFORE):
    """transcripts/packages/verify.py as it was at `rev`, loaded as its own module."""
    import importlib.util

    source = subprocess.run(  # noqa: S603 (a revision given on the command line)
        ["git", "show", f"{rev}:transcripts/packages/verify.py"],  # noqa: S607
        cwd=ROOT, capture_output=True, check=True, text=True,
    ).stdout  # fmt: skip
    path = Path("/tmp/sodiem_verify_before.py")  # noqa: S108
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("sodiem_verify_before", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


# --- the cases -----------------------------------------------------------------------------------


def zip_of(members: list[tuple[str, bytes, int]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data, method in members:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = method
            archive.writestr(info, data)
    return out.getvalue()


def members_of(package: bytes) -> list[tuple[str, bytes, int]]:
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        return [(i.filename, archive.read(i), i.compress_type) for i in archive.infolist()]


def bomb(genuine: bytes, upload_limit: int) -> bytes:
    """The genuine manifest and signature, and in place of the transcripts' files runs of zeros
    of 60 MB each (under the old member limit of 64 MiB), as many as fit the upload limit."""
    members = members_of(genuine)
    kept = [m for m in members if not m[0].startswith("transcripts/")]
    names = [m[0] for m in members if m[0].startswith("transcripts/")]
    zeros = bytes(60 * 1024 * 1024)
    one = len(zip_of([("x", zeros, zipfile.ZIP_DEFLATED)]))
    count = min(len(names), max(1, (upload_limit - len(genuine) // 10) // one))
    return zip_of(kept + [(name, zeros, zipfile.ZIP_DEFLATED) for name in names[:count]])


def sealed_ratio(genuine: bytes) -> bytes:
    block = os.urandom(1000)
    members = members_of(genuine)
    pdf = next(i for i, m in enumerate(members) if m[0].endswith(".pdf"))
    members[pdf] = (members[pdf][0], (block * 6000)[:6_000_000], zipfile.ZIP_DEFLATED)
    return zip_of(members)


def dense_manifest(genuine: bytes) -> bytes:
    from transcripts.packages import format as fmt

    head = f'<?xml version="1.0" encoding="UTF-8"?><goiHocBa xmlns="{fmt.NAMESPACE}">'.encode()
    dense = head + b"<a/>" * ((2 * 1024 * 1024 - len(head) - 20) // 4) + b"</goiHocBa>"
    members = [(n, dense if n == fmt.MANIFEST else d, zipfile.ZIP_STORED if n == fmt.MANIFEST
                else m) for n, d, m in members_of(genuine)]  # fmt: skip
    return zip_of(members)


# --- measuring -----------------------------------------------------------------------------------


def _max_rss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _current_rss_kib() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def _child(kind: str, data: bytes, before: str | None, queue) -> None:
    from django.conf import settings
    from django.utils import translation

    from transcripts.packages import verify

    translation.activate("en")
    module = old_verifier(before) if before else verify
    inflated = [0]
    original = zipfile.ZipExtFile.read

    def counting(self, n=-1):
        chunk = original(self, n)
        inflated[0] += len(chunk)
        return chunk

    zipfile.ZipExtFile.read = counting
    start_rss = _current_rss_kib()
    tracemalloc.start()
    started = time.perf_counter()
    if before:
        report = module.verify_package(io.BytesIO(data))
    elif kind == "page":
        inline = settings.VERIFY_PACKAGE_INLINE_TRANSCRIPTS
        report = module.verify_package(
            io.BytesIO(data),
            limits=module.Limits.public(),
            transcripts=lambda m: len(m.transcripts) <= inline,
        )
    else:
        report = module.verify_package(io.BytesIO(data), limits=module.Limits.public())
    seconds = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    queue.put({
        "seconds": seconds,
        "inflated": inflated[0],
        "python_peak": peak,
        "rss_over": max(0, _max_rss_kib() - start_rss),
        "problems": [str(p) for p in report.problems[:2]],
        "count": len(report.problems),
        "transcripts": report.transcripts_checked,
        "handed_to_job": bool(getattr(report, "files_verified", False))
        and not getattr(report, "transcripts_verified", True),
    })  # fmt: skip


def measure(label: str, kind: str, data: bytes, *, before: str | None = None) -> None:
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    process = context.Process(target=_child, args=(kind, data, before, queue))
    process.start()
    result = queue.get()
    process.join()
    mib = 1024 * 1024
    outcome = (
        "handed to a job" if result["handed_to_job"]
        else "valid" if not result["count"]
        else f"refused ({result['count']}): {'; '.join(result['problems'])[:150]}"
    )  # fmt: skip
    print(
        f"{label:<34} {kind:<4}{' (before)' if before else '         '} "
        f"{result['seconds'] * 1000:9.0f} ms  inflated {result['inflated'] / mib:8.1f} MiB  "
        f"python peak {result['python_peak'] / mib:7.1f} MiB  RSS +{result['rss_over'] / 1024:6.1f}"
        f" MiB  transcripts {result['transcripts']:4}  {outcome}",
        flush=True,
    )


def main() -> int:
    args = arguments().parse_args()
    media = Path(args.media_root)
    setup(media)
    from django.conf import settings

    package = args.package or max((media / "packages").rglob("*.zip"), key=os.path.getmtime)
    genuine = package.read_bytes()
    limit = settings.VERIFY_PACKAGE_MAX_BYTES
    cases = {
        "bomb": bomb(genuine, limit),
        "bomb-sealed-ratio": sealed_ratio(genuine),
        "dense-manifest": dense_manifest(genuine),
        "genuine": genuine,
    }
    with zipfile.ZipFile(io.BytesIO(genuine)) as archive:
        transcripts = sum(1 for n in archive.namelist() if n.endswith(".pdf"))
    print(f"genuine package: {package} ({len(genuine) / 1e6:.1f} MB, {transcripts} transcripts)")
    print(f"python={sys.version.split()[0]} cpus={os.cpu_count()} upload limit={limit} bytes")
    for name, data in cases.items():
        label = f"{name} ({len(data) / 1e6:.1f} MB)"
        measure(label, "page", data)
        if name == "genuine":
            measure(label, "job", data)
        if args.before:
            measure(label, "page", data, before=args.before)
    return 0


if __name__ == "__main__":
    sys.exit(main())
