"""Issue 19: every stored file through the storage, on the file system and on a real S3-protocol
server (moto, started once per test session on 127.0.0.1 in its own process): signing stores
the files there, downloads stream them after the access check, exports stream them into the
ZIP, stored names are write-once, and a store that fails leaves nothing half-written."""

from __future__ import annotations

import dataclasses
import os
import socket
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
import zipfile
from pathlib import Path

import boto3
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages
from django.urls import reverse

from config.storage import StorageUnavailable
from tests.transcripts.conftest import P12_PASSWORD, export_now, finalise, stored
from transcripts import pipeline
from transcripts.models import JobStatus, SignerRole, State, TranscriptSignature
from transcripts.packages import format as fmt
from transcripts.packages.build import COPY_BYTES, write_unsealed
from transcripts.packages.exports import retry_export, run_export
from transcripts.packages.scope import current_finals
from transcripts.workflow import confirm_ready

BUCKET = "sodiem-tests"
KEYS = {"access_key": "test-key", "secret_key": "test-secret"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory):
    """A moto S3 server on 127.0.0.1 (its own process: the memory measured here is ours), with
    the test bucket; stopped at the end of the session."""
    port = _free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=KEYS["access_key"],
        aws_secret_access_key=KEYS["secret_key"],
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            client.create_bucket(Bucket=BUCKET)
            break
        except Exception:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail(f"moto did not start on {endpoint}: {log.read_text()[-2000:]}")
            time.sleep(0.2)
    yield endpoint
    server.terminate()
    server.wait(timeout=10)


def s3_backend(endpoint: str, prefix: str, **options) -> dict:
    return {
        "BACKEND": "config.storage_s3.WriteOnceS3Storage",
        "OPTIONS": {
            "bucket_name": BUCKET,
            "endpoint_url": endpoint,
            "region_name": "us-east-1",
            "location": prefix,
            "addressing_style": "path",
            **KEYS,
            **options,
        },
    }


@dataclasses.dataclass
class Store:
    kind: str
    settings: object
    endpoint: str = ""
    prefix: str = ""

    def names(self) -> set[str]:
        """Every name in the store (for this test), read behind the application's back."""
        if self.kind == "filesystem":
            root = Path(self.settings.MEDIA_ROOT)
            return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
        client = boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                              aws_access_key_id=KEYS["access_key"],
                              aws_secret_access_key=KEYS["secret_key"])  # fmt: skip
        listing = client.list_objects_v2(Bucket=BUCKET, Prefix=self.prefix + "/")
        return {item["Key"][len(self.prefix) + 1 :] for item in listing.get("Contents", [])}

    def remove(self, name: str) -> None:
        """Lose a stored file (deleted by hand, a restore without it)."""
        if self.kind == "filesystem":
            (Path(self.settings.MEDIA_ROOT) / name).unlink()
        else:
            boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                         aws_access_key_id=KEYS["access_key"],
                         aws_secret_access_key=KEYS["secret_key"],
                         ).delete_object(Bucket=BUCKET, Key=f"{self.prefix}/{name}")  # fmt: skip

    def go_away(self, tmp_path: Path) -> None:
        """The store cannot be reached: a closed port; on the file system, a volume gone (its
        path now runs through a regular file)."""
        if self.kind == "filesystem":
            blocker = tmp_path / "unmounted"
            blocker.write_bytes(b"")
            self.settings.MEDIA_ROOT = str(blocker / "media")
        else:
            closed = f"http://127.0.0.1:{_free_port()}"
            self.settings.STORAGES = {
                **self.settings.STORAGES,
                "default": s3_backend(closed, self.prefix, timeout=1, attempts=1),
            }

    def come_back(self, media_root: str, storages_setting: dict) -> None:
        self.settings.MEDIA_ROOT = media_root
        self.settings.STORAGES = storages_setting


@pytest.fixture(params=["filesystem", "s3"])
def store(request, settings, tmp_path) -> Store:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    if request.param == "filesystem":
        default = {"BACKEND": "config.storage.WriteOnceFileSystemStorage"}
        settings.STORAGES = {**settings.STORAGES, "default": default}
        return Store("filesystem", settings)
    endpoint = request.getfixturevalue("s3_endpoint")
    prefix = f"t-{uuid.uuid4().hex}"
    settings.STORAGES = {**settings.STORAGES, "default": s3_backend(endpoint, prefix)}
    return Store("s3", settings, endpoint, prefix)


@pytest.fixture
def final_one(store, signing_setup, credentials, transcript, homeroom, principal, role_signers):
    """One final (sealed) transcript, its files in the store under test."""
    finalise(transcript, homeroom, principal, role_signers)
    return transcript


def test_the_storage_follows_the_environment():
    """OBJECT_STORAGE_BUCKET set: the S3 store with the environment's endpoint and keys; unset:
    the file system (the embedded default)."""
    program = (
        "import importlib, os, config.settings as s\n"
        "print(s.STORAGES['default']['BACKEND'])\n"
        "options = s.STORAGES['default']['OPTIONS']\n"
        "print(options['bucket_name'], options['endpoint_url'], options['access_key'],"
        " options['secret_key'], options['addressing_style'], options['location'])\n"
        "del os.environ['OBJECT_STORAGE_BUCKET']\n"
        "print(importlib.reload(s).STORAGES['default']['BACKEND'])\n"
    )
    env = {
        **os.environ,
        "DEBUG": "1",
        "OBJECT_STORAGE_BUCKET": "hocba",
        "OBJECT_STORAGE_ENDPOINT_URL": "http://127.0.0.1:9000",
        "OBJECT_STORAGE_ACCESS_KEY_ID": "AK",
        "OBJECT_STORAGE_SECRET_ACCESS_KEY": "SK",
        "OBJECT_STORAGE_PREFIX": "/sodiem/",
    }
    out = subprocess.run(
        [sys.executable, "-c", program], env=env, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out == [
        "config.storage_s3.WriteOnceS3Storage",
        "hocba http://127.0.0.1:9000 AK SK path sodiem",
        "config.storage.WriteOnceFileSystemStorage",
    ]


def test_a_stored_name_is_never_written_again(store):
    name = "transcripts/1/x/v1/hocba-3-seal.pdf"
    assert default_storage.save(name, ContentFile(b"signed")) == name
    again = default_storage.save(name, ContentFile(b"forged"))
    assert again != name and again.startswith("transcripts/1/x/v1/hocba-3-seal")
    with pytest.raises(FileExistsError):
        default_storage._save(name, ContentFile(b"forged"))  # past the free-name check
    with pytest.raises(FileExistsError):
        default_storage.open(name, "wb")
    with default_storage.open(name) as handle:
        assert handle.read() == b"signed"
        handle.seek(2)  # an upload resumed at an offset (transcripts/packages/client.py)
        assert handle.read() == b"gned"
    assert store.names() == {name, again}


def test_signing_stores_the_files_and_the_app_serves_them_after_the_access_check(
    final_one, store, english, homeroom, outsider
):
    version = final_one.versions.get()
    assert final_one.state == State.FINAL
    assert {version.pdf_file.name, version.xml_file.name} <= store.names()
    # Each signature stored new files; the earlier stages stay as they were (write-once).
    assert sorted(Path(name).name for name in store.names()) == [
        f"hocba-{stage}.{kind}"
        for stage in ("0-rendered", "1-homeroom", "2-principal", "3-seal")
        for kind in ("pdf", "xml")
    ]
    assert version.pdf_file.name.endswith("hocba-3-seal.pdf")
    args = [final_one.school.code, final_one.pk, 1]
    english.force_login(homeroom)
    pdf = english.get(reverse("hocba:download", args=[*args, "pdf"]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert int(pdf["Content-Length"]) == version.pdf_file.size
    assert b"".join(pdf.streaming_content) == stored(version.pdf_file)
    xml = english.get(reverse("hocba:download", args=[*args, "xml"]))
    assert xml["Content-Disposition"].startswith("attachment")
    assert b"".join(xml.streaming_content) == stored(version.xml_file)
    english.force_login(outsider)  # another school's
    assert english.get(reverse("hocba:download", args=[*args, "pdf"])).status_code == 404


def test_a_lost_file_is_an_error_page_not_a_server_error(
    final_one, store, english, homeroom, admin, outsider, tmp_path
):
    package = export_now(admin, final_one.school, only_final=True)
    assert package.status == JobStatus.FINISHED and package.file.name in store.names()
    url = reverse("hocba:package_download", args=[final_one.school.code, package.pk])
    english.force_login(admin)
    assert b"".join(english.get(url).streaming_content) == stored(package.file)
    english.force_login(outsider)  # another school's
    assert english.get(url).status_code == 404
    english.force_login(admin)
    store.remove(package.file.name)
    response = english.get(url)
    assert response.status_code == 404 and "File not available" in response.content.decode()
    # A signed file lost: its download says so; a new export reports the transcript.
    version = final_one.versions.get()
    english.force_login(homeroom)
    url = reverse("hocba:download", args=[final_one.school.code, final_one.pk, 1, "pdf"])
    store.remove(version.pdf_file.name)
    response = english.get(url)
    assert response.status_code == 404
    assert "File not available" in response.content.decode()
    assert "missing from the file store" in response.content.decode()
    package = export_now(admin, final_one.school, only_final=True)
    assert package.status == JobStatus.FAILED
    assert "The signed PDF cannot be read" in str(package.failures)
    store.go_away(tmp_path)  # and a store that cannot be reached: 503, said so
    response = english.get(url.replace(".pdf", ".xml"))
    assert response.status_code == 503
    assert "cannot be reached" in response.content.decode()


def test_an_unreachable_store_signs_nothing(
    store, signing_setup, transcript, homeroom, role_signers, tmp_path, english
):
    confirm_ready(actor=homeroom, transcript=transcript)
    pipeline.render_version(version=transcript.versions.get())
    before = store.names()
    assert len(before) == 2  # the rendered PDF and XML
    store.go_away(tmp_path)
    with pytest.raises(StorageUnavailable) as refused:
        pipeline.sign_version(
            actor=homeroom,
            transcript=transcript,
            role=SignerRole.HOMEROOM,
            signer=role_signers[SignerRole.HOMEROOM],
        )
    assert "cannot be reached" in str(refused.value) and "nothing was saved" in str(refused.value)
    transcript.refresh_from_db()
    assert transcript.state == State.READY
    assert not TranscriptSignature.objects.exists()
    # In a batch: that transcript failed, with the reason.
    result = pipeline.sign_batch(
        actor=homeroom,
        transcripts=[transcript],
        role=SignerRole.HOMEROOM,
        signer=role_signers[SignerRole.HOMEROOM],
    )
    assert [item.outcome for item in result.items] == ["failed"]
    assert "cannot be reached" in result.items[0].message


def test_a_store_failing_half_way_keeps_no_half_signed_files(
    store, signing_setup, transcript, homeroom, role_signers, monkeypatch
):
    """The PDF is stored, then the XML cannot be: the PDF goes again, nothing is signed."""
    confirm_ready(actor=homeroom, transcript=transcript)
    version = pipeline.render_version(version=transcript.versions.get())
    before = store.names()
    assert len(before) == 2  # the rendered PDF and XML
    storage = storages["default"]
    original = storage._save

    def fail_on_xml(name, content):
        if name.endswith(".xml"):
            raise StorageUnavailable("the store went away")
        return original(name, content)

    monkeypatch.setattr(storage, "_save", fail_on_xml)
    with pytest.raises(StorageUnavailable):
        pipeline.sign_version(actor=homeroom, transcript=transcript, role=SignerRole.HOMEROOM,
                              signer=role_signers[SignerRole.HOMEROOM])  # fmt: skip
    assert store.names() == before
    version.refresh_from_db()
    assert version.pdf_file.name.endswith("hocba-0-rendered.pdf")
    assert not TranscriptSignature.objects.exists()
    monkeypatch.undo()
    pipeline.sign_version(actor=homeroom, transcript=transcript, role=SignerRole.HOMEROOM,
                          signer=role_signers[SignerRole.HOMEROOM])  # fmt: skip
    assert len(store.names()) == 4


def _break(storage, monkeypatch, fails: str) -> None:
    """The store fails while the build reads a PDF, or while the package is saved."""
    method = "_open" if fails == "reading a PDF" else "_save"
    suffix = ".pdf" if fails == "reading a PDF" else ".zip"
    original = getattr(storage, method)

    def broken(name, *args):
        if name.endswith(suffix):
            raise StorageUnavailable("connection reset")
        return original(name, *args)

    monkeypatch.setattr(storage, method, broken)


def test_an_export_stopped_by_the_store_resumes_to_a_complete_package(
    final_one, store, admin, monkeypatch, english
):
    package = None
    for fails in ("reading a PDF", "storing the package"):
        _break(storages["default"], monkeypatch, fails)
        before = store.names()
        if package is None:
            package = export_now(admin, final_one.school, only_final=True)
        else:
            package = retry_export(actor=admin, package=package, secret=P12_PASSWORD,
                                   enqueue=False)  # fmt: skip
            run_export(package.pk)
            package.refresh_from_db()
        assert package.status == JobStatus.INTERRUPTED, fails
        assert "file store could not be reached" in package.message
        assert not package.file and store.names() == before
        monkeypatch.undo()
    english.force_login(admin)
    page = english.get(reverse("hocba:package", args=[final_one.school.code, package.pk]))
    shown = page.content.decode()
    assert "file store could not be reached" in shown and 'id="retry-form"' in shown
    assert 'id="package-stale"' not in shown  # not "its worker has probably stopped"
    package = retry_export(actor=admin, package=package, secret=P12_PASSWORD, enqueue=False)
    run_export(package.pk)
    package.refresh_from_db()
    assert package.status == JobStatus.FINISHED, package.message
    assert package.file.name in store.names()
    with tempfile.TemporaryFile() as local:
        local.write(stored(package.file))
        with zipfile.ZipFile(local) as archive:
            assert archive.testzip() is None
            names = archive.namelist()
    assert names[-2:] == [fmt.MANIFEST, fmt.SIGNATURE]
    assert sum(name.endswith(".pdf") for name in names) == 1
    assert sum(name.endswith(".xml") and name.startswith("transcripts/") for name in names) == 1


def test_the_export_streams_files_from_the_store_into_the_zip(final_one, store):
    """A stored PDF far larger than the memory the build may use: copied in pieces."""
    version = final_one.versions.get()
    big = os.urandom(16 * 1024 * 1024)
    version.pdf_file.save("hocba-9-large.pdf", ContentFile(big), save=False)
    version.pdf_sha256 = pipeline._sha256(big)
    version.save(update_fields=["pdf_file", "pdf_sha256"])
    school, year = final_one.school, final_one.year
    finals = current_finals(school, year)
    with tempfile.TemporaryFile() as out:
        tracemalloc.start()
        try:
            result = write_unsealed(
                out, school=school, year=year, kind="full", finals=finals,
                scope=fmt.Scope(students=1, left_out=2, only_final=True),
                withdrawals=[], created_at=version.created_at,
            )  # fmt: skip
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert result.ok, result.failures
        # Reading the file whole would take its size at least once more than this.
        assert peak < 6 * COPY_BYTES < len(big) / 2
        with zipfile.ZipFile(out) as archive:
            (pdf,) = (name for name in archive.namelist() if name.endswith(".pdf"))
            assert archive.read(pdf) == big
