"""Issue 18, finding 4: anonymous package uploads to /verify/ must be cheap to refuse.

The cheap checks come first and stop at the first failure: the ZIP's central directory (counts,
declared sizes, compression ratios, nested archives, overlapping members), the manifest
(bounded, parsed with a bounded parser), its seal, then every member's digest with the bytes
actually inflated counted. Only then are the transcripts' signatures checked: on the page for a
few transcripts, in a background job (its own time limit, an unguessable result page) for more.
"""

# ruff: noqa: F401, F811 - `built`, the fixture of test_package_verify, is each test's argument
from __future__ import annotations

import copy
import io
import os
import zipfile
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone, translation

from tests.transcripts.test_package_verify import built, member, resealed, rewrite
from transcripts.models import JobStatus, PackageVerification, SignerRole, VerificationLookup
from transcripts.packages import format as fmt
from transcripts.packages import verify as package_verify
from transcripts.packages.verify import Limits, verify_package
from transcripts.packages.verify import transcripts as transcript_verifiers

pytestmark = pytest.mark.django_db

HOME = "/verify/"


@pytest.fixture(autouse=True)
def _setup(client, settings, built, tmp_path):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the pages in English
    settings.SIGNING_TRUST_ANCHORS = [str(built.ca_pem)]
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }
    cache.clear()
    with translation.override("en"):
        yield
    cache.clear()


@pytest.fixture
def inflated(monkeypatch) -> dict[str, int]:
    """Counts every byte read out of a ZIP member (inflated), whoever reads it."""
    counter = {"bytes": 0}
    original = zipfile.ZipExtFile.read

    def read(self, n=-1):
        data = original(self, n)
        counter["bytes"] += len(data)
        return data

    monkeypatch.setattr(zipfile.ZipExtFile, "read", read)
    return counter


@pytest.fixture
def transcript_checks(monkeypatch) -> list[str]:
    """Records every call of the per-transcript signature verifiers (and lets them run)."""
    calls: list[str] = []
    for name in ("pdf_signatures", "xml_signatures"):
        original = getattr(transcript_verifiers, name)

        def spy(*args, _original=original, _name=name, **kwargs):
            calls.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(transcript_verifiers, name, spy)
    return calls


def post(client, data: bytes):
    return client.post(HOME, {"file": SimpleUploadedFile("goi.zip", data)})


def problems_of(response) -> list[tuple[str, str]]:
    return [(p.member, p.message) for p in response.context["report"].problems]


def compressible(size: int) -> bytes:
    """Bytes that deflate about 80 times: under the old ratio limit (200), far over a genuine
    member's (about 3)."""
    block = os.urandom(1000)
    return (block * (size // len(block) + 1))[:size]


def deflated(data: bytes, name: str, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """The ZIP with member ``name`` compressed (a package stores its PDFs as they are), or
    stored as it is with ``method=zipfile.ZIP_STORED``."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == name:
                info = copy.copy(info)
                info.compress_type = method
            target.writestr(info, content)
    return out.getvalue()


def first_paths(built) -> tuple[str, str]:
    return (f"transcripts/{built.codes[0]}/1.xml", f"transcripts/{built.codes[0]}/1.pdf")


# --- the cheap checks ----------------------------------------------------------------------------


def test_a_sealed_zip_bomb_is_refused_without_inflating_anything(
    client, built, role_signers, inflated, transcript_checks
):
    _, pdf = first_paths(built)
    sealed = resealed(built, role_signers[SignerRole.SEAL], {pdf: compressible(6_000_000)})
    bomb = deflated(sealed, pdf)
    assert len(bomb) < 200_000
    inflated["bytes"] = 0
    response = post(client, bomb)
    assert (pdf, "The member is compressed suspiciously well (a ZIP bomb?).") in problems_of(
        response
    )
    assert inflated["bytes"] == 0
    assert transcript_checks == []


def test_a_package_that_unpacks_to_more_than_the_limit_is_refused_unread(
    client, settings, built, inflated
):
    settings.VERIFY_PACKAGE_MAX_UNPACKED_BYTES = 100_000
    response = post(client, built.zip)
    assert problems_of(response) == [("", "The package unpacks to more than the allowed size.")]
    assert inflated["bytes"] == 0


def test_bytes_inflated_are_counted_and_capped_whatever_the_headers_say(built, inflated):
    """Members whose headers lie low: the bytes inflated are counted against the total."""
    limits = Limits(max_total_bytes=200_000)
    with translation.override("en"):
        report = verify_package(io.BytesIO(built.zip), anchor_paths=[built.ca_pem], limits=limits)
    assert ("", "The package unpacks to more than the allowed size.") in [
        (p.member, p.message) for p in report.problems
    ]
    assert inflated["bytes"] == 0  # the declared sizes (262 KB) already say so
    budget = package_verify.Inflation(50_000)
    with zipfile.ZipFile(io.BytesIO(built.zip)) as archive, translation.override("en"):
        report = package_verify.PackageReport()
        _, pdf = first_paths(built)
        data = package_verify.read_member(archive, pdf, limits=Limits(), budget=budget,
                                          report=report)  # fmt: skip
    assert data is None and budget.spent <= 50_000 + package_verify.CHUNK
    assert [p.message for p in report.problems] == [
        "The package unpacks to more than the allowed size."
    ]


def test_a_nested_archive_is_refused(client, built, role_signers):
    _, pdf = first_paths(built)
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as archive:
        archive.writestr("a.txt", b"x")
    sealed = resealed(built, role_signers[SignerRole.SEAL], {pdf: inner.getvalue()})
    assert (pdf, "An archive inside the package is not allowed.") in problems_of(
        post(client, sealed)
    )
    named = rewrite(built.zip, add={"transcripts/x/inner.zip": b"PK\x05\x06" + bytes(18)})
    assert ("transcripts/x/inner.zip", "An archive inside the package is not allowed.") in (
        problems_of(post(client, named))
    )


def test_a_bad_seal_stops_before_any_transcript_is_verified(
    client, built, inflated, transcript_checks
):
    other = member(built.single, fmt.SIGNATURE)
    tampered = rewrite(built.zip, change={fmt.SIGNATURE: other})
    inflated["bytes"] = 0
    response = post(client, tampered)
    assert problems_of(response) == [
        (fmt.SIGNATURE, "The manifest signature does not match manifest.xml.")
    ]
    assert transcript_checks == []
    assert inflated["bytes"] < 10_000  # the manifest and its signature, nothing else
    with translation.override("en"):
        report = verify_package(io.BytesIO(tampered), anchor_paths=[built.ca_pem])
    assert not report.ok and transcript_checks == []


def test_an_element_dense_manifest_is_refused(client, built, transcript_checks):
    dense = (
        f'<?xml version="1.0" encoding="UTF-8"?><goiHocBa xmlns="{fmt.NAMESPACE}">'.encode()
        + b"<a/>" * 300_000
        + b"</goiHocBa>"
    )
    stored = deflated(
        rewrite(built.zip, change={fmt.MANIFEST: dense}), fmt.MANIFEST, zipfile.ZIP_STORED
    )  # fmt: skip (deflated, its ratio alone refuses it)
    [(name, message)] = problems_of(post(client, stored))
    assert name == fmt.MANIFEST
    assert "more than 20000 elements" in message
    deep = b"<a>" * 100 + b"</a>" * 100
    response = post(client, rewrite(built.zip, change={fmt.MANIFEST: deep}))
    assert "nested more than" in problems_of(response)[0][1]
    assert transcript_checks == []


def test_a_manifest_larger_than_the_limit_is_refused(client, settings, built):
    settings.VERIFY_PACKAGE_MANIFEST_MAX_BYTES = 1024
    [(name, message)] = problems_of(post(client, built.zip))
    assert (name, message.replace("\xa0", " ")) == (
        fmt.MANIFEST,
        "The manifest is larger than 1.0 KB.",
    )


def test_an_element_dense_transcript_xml_is_refused_before_its_signatures(
    built, role_signers, transcript_checks
):
    xml, _ = first_paths(built)
    original = member(built.zip, xml)
    dense = original.replace(b"</hocBaSo>", b"<x/>" * 50_000 + b"</hocBaSo>")
    sealed = resealed(built, role_signers[SignerRole.SEAL], {xml: dense})
    with translation.override("en"):
        report = verify_package(
            io.BytesIO(sealed), anchor_paths=[built.ca_pem], limits=Limits(max_xml_elements=5000)
        )
    assert (xml, "The XML has more than 5000 elements.") in [
        (p.member, p.message) for p in report.problems
    ]
    assert transcript_checks.count("xml_signatures") == 1  # the other transcript's only


def test_the_transcript_checks_stop_at_their_time_limit(built):
    with translation.override("en"):
        report = verify_package(
            io.BytesIO(built.zip), anchor_paths=[built.ca_pem], limits=Limits(max_seconds=0)
        )
    assert [p.message for p in report.problems] == [
        "The check was stopped after 0 seconds: 0 of 2 transcripts were checked."
    ]


# --- the page and the job ------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def worker_keeps_the_test_connection(monkeypatch):
    """The worker runs inside the test's transaction: its close_old_connections() would close
    that connection on PostgreSQL (as in tests/transcripts/conftest.py's `backend`)."""
    monkeypatch.setattr(
        "django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None
    )


def run_worker() -> None:
    call_command("db_worker", batch=True, no_startup_delay=True, interval=0, verbosity=0)


def test_a_small_genuine_package_is_checked_on_the_page(client, built, transcript_checks):
    response = post(client, built.zip)
    assert 'data-outcome="package-valid"' in response.content.decode()
    assert transcript_checks.count("pdf_signatures") == 2
    assert not PackageVerification.objects.exists()


def test_a_larger_genuine_package_is_handed_to_a_job(
    client, settings, built, django_capture_on_commit_callbacks
):
    settings.VERIFY_PACKAGE_INLINE_TRANSCRIPTS = 1
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, built.zip)
    job = PackageVerification.objects.get()
    assert response.status_code == 302
    assert response.url == f"/verify/package/{job.token}/"
    stored = Path(settings.MEDIA_ROOT) / job.file_name
    assert stored.is_file() and "private" in job.file_name
    page = client.get(response.url).content.decode()
    assert 'data-status="queued"' in page
    assert "seal and the digests of its 7 files check out." in page
    assert VerificationLookup.objects.get().outcome == "queued"
    run_worker()
    job.refresh_from_db()
    assert job.status == JobStatus.FINISHED and job.processed == 2
    assert not stored.exists()  # deleted when the job ends
    page = client.get(response.url).content.decode()
    assert 'data-outcome="package-valid"' in page
    assert 'data-status="finished"' in page
    assert "Nguyễn Văn Bình" not in page and "Trần Thị An" not in page
    progress = client.get(f"/verify/package/{job.token}/progress/")
    assert progress.status_code == 200 and b"package-valid" in progress.content


def test_the_job_reports_what_only_the_transcripts_reveal(
    client, settings, built, role_signers, django_capture_on_commit_callbacks
):
    settings.VERIFY_PACKAGE_INLINE_TRANSCRIPTS = 1
    mine, theirs = (f"transcripts/{code}/1.pdf" for code in built.codes)
    swapped = resealed(built, role_signers[SignerRole.SEAL], {mine: member(built.zip, theirs)})
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, swapped)
    run_worker()
    page = client.get(response.url).content.decode()
    assert 'data-outcome="package-invalid"' in page
    assert f"{mine}</span>: The XML embedded in the PDF is not this transcript" in page


def test_the_result_page_is_unguessable_and_expires(
    client, settings, built, django_capture_on_commit_callbacks
):
    settings.VERIFY_PACKAGE_INLINE_TRANSCRIPTS = 1
    settings.VERIFY_PACKAGE_MAX_ACTIVE_PER_ADDRESS = 5
    with django_capture_on_commit_callbacks(execute=True):
        first, second = post(client, built.zip), post(client, built.zip)
    jobs = list(PackageVerification.objects.order_by("pk"))
    assert [first.url, second.url] == [f"/verify/package/{j.token}/" for j in jobs]
    assert jobs[0].token != jobs[1].token and min(len(j.token) for j in jobs) >= 32
    assert str(jobs[0].pk) not in jobs[0].token.split("-")
    assert client.get(f"/verify/package/{jobs[0].pk}/").status_code == 404
    assert client.get("/verify/package/" + "A" * 43 + "/").status_code == 404
    assert client.get("/verify/package/" + "A" * 43 + "/progress/").status_code == 404
    stored = Path(settings.MEDIA_ROOT) / jobs[0].file_name
    PackageVerification.objects.filter(pk=jobs[0].pk).update(expires_at=timezone.now())
    assert client.get(first.url).status_code == 404
    assert not PackageVerification.objects.filter(pk=jobs[0].pk).exists()
    assert not stored.exists()
    assert client.get(second.url).status_code == 200


def test_one_address_has_one_job_at_a_time(
    client, settings, built, django_capture_on_commit_callbacks
):
    settings.VERIFY_PACKAGE_INLINE_TRANSCRIPTS = 1
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, built.zip).status_code == 302
        refused = post(client, built.zip)
    assert refused.status_code == 429
    assert "still being checked" in refused.content.decode()
    assert PackageVerification.objects.count() == 1
    run_worker()
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, built.zip).status_code == 302


def test_the_job_enforces_the_limits_again(
    client, settings, built, django_capture_on_commit_callbacks
):
    settings.VERIFY_PACKAGE_INLINE_TRANSCRIPTS = 1
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, built.zip)
    settings.VERIFY_PACKAGE_JOB_SECONDS = 0
    run_worker()
    job = PackageVerification.objects.get()
    assert job.status == JobStatus.FAILED
    page = client.get(response.url).content.decode()
    assert "The check was stopped after 0 seconds: 0 of 2 transcripts were checked." in page
