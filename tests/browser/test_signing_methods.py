"""Signing where the keys really are, in real Chromium against the live server: the school seal
on a USB token (a real SoftHSM2 token) through the real signing companion, paired with a code
and signed with the PIN typed in the companion's own page, in a second tab; and the principal
confirming once on the phone (the phone-confirmation service's fake, speaking its protocol over
a socket), in a second tab, or rejecting. The worker's side of each job runs in the test, in a
thread of its own as a task worker's would: `jobs.run_job` and, for the phone,
`jobs.poll_batch` (the poll task's work)."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import pytest
from cryptography.hazmat.primitives.serialization import pkcs12
from django.db import connections
from django.urls import reverse
from django.utils.translation import gettext
from playwright.sync_api import BrowserContext, Page, expect

from accounts.totp import current_totp_code
from schools.models import ClassGroup
from tests.browser.conftest import ARTIFACTS
from tests.browser.pages import expect_path, log_in, submit_totp, wait_for_fresh_totp_period
from tests.companion.conftest import (
    PIN,
    SO_PIN,
    SOFTHSM_LIB,
    TOKEN_LABEL,
    _import_key,
    _require_softhsm,
    _store_certificate,
    make_config,
    start,
    stop,
)
from tests.conftest import add_students
from tests.transcripts.conftest import (  # noqa: F401 (fixtures)
    P12_PASSWORD,
    assert_pdf_signatures,
    assert_xml_signatures,
    complete_year,
    pki,
    pki_nssdb,
    role_p12,
    role_signers,
    signing_setup,
    stored,
)
from transcripts import jobs
from transcripts.credentials import register_credential
from transcripts.models import (
    BatchStatus,
    CredentialKind,
    JobStatus,
    SignerRole,
    State,
    Transcript,
    TranscriptJob,
    TranscriptSignature,
)
from transcripts.pipeline import sign_batch
from transcripts.signing.demo_services import ConfirmServer
from transcripts.workflow import confirm_ready, transcript_for

pytestmark = pytest.mark.browser

API_KEY = "khoa-api-dien-thoai"
PHONE_USER = "ht"
WAIT_MS = 30_000  # the page noticing a job's new state, the companion's page reloading
WORKER_SECONDS = 120
T = TypeVar("T")


def in_worker(function: Callable[..., T], /, **kwargs) -> T:
    """``function(**kwargs)`` in a thread of its own, as a task worker runs it (with its own
    database connection, like the live server's thread). Not in the test's thread: Playwright's
    sync API keeps an asyncio loop running there, and signing runs pyHanko's coroutines on an
    event loop of its own, which asyncio refuses in a thread that already runs one."""

    def work() -> T:
        try:
            return function(**kwargs)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(work).result(timeout=WORKER_SECONDS)


@pytest.fixture
def signed_class(signing_setup, school_a, homeroom, role_signers) -> list[Transcript]:  # noqa: F811
    """Two complete students of class 6A9, confirmed and signed by the homeroom teacher."""
    class_group = ClassGroup.objects.create(
        year=school_a.current_year(), name="6A9", grade=6, homeroom_teacher=homeroom
    )
    transcripts = []
    for student in add_students(class_group, [("Đặng Thu Hà", "F"), ("Vũ Đức Anh", "M")], 200):
        complete_year(class_group, student)
        transcript = transcript_for(student=student, class_group=class_group)
        confirm_ready(actor=homeroom, transcript=transcript)
        transcripts.append(transcript)
    signer = role_signers[SignerRole.HOMEROOM]
    in_worker(
        sign_batch, actor=homeroom, transcripts=transcripts, role=SignerRole.HOMEROOM, signer=signer
    )
    assert states(transcripts) == [State.SIGNED_HOMEROOM] * 2
    return transcripts


def key_and_chain(p12: bytes):
    key, certificate, chain = pkcs12.load_key_and_certificates(p12, P12_PASSWORD.encode())
    return key, [certificate, *chain]


@pytest.fixture
def phone(settings, role_p12, school_a, principal) -> Iterator[ConfirmServer]:  # noqa: F811
    """The phone-confirmation service, the principal registered at it as the way they sign."""
    key, chain = key_and_chain(role_p12[SignerRole.PRINCIPAL])
    with ConfirmServer({PHONE_USER: (key, chain)}, api_key=API_KEY) as server:
        settings.SIGNING_SERVICES = {
            "phone": {"adapter": "confirm-v1", "base_url": server.base_url, "api_key": API_KEY}
        }
        register_credential(
            school=school_a, user=principal, kind=CredentialKind.REMOTE, created_by=principal,
            certificates=chain, config={"service": "phone", "user_id": PHONE_USER},
        )  # fmt: skip
        yield server


@pytest.fixture
def seal_token(tmp_path_factory, monkeypatch, role_p12):  # noqa: F811
    """A SoftHSM2 token holding the school seal's key and certificate (as the seal's USB token
    would). SOFTHSM2_CONF points at it only during the test, and the library is left finalized
    so that the next user of SoftHSM2 in this process initialises it with its own
    configuration (as tests/companion/conftest.py does)."""
    import pkcs11

    util = _require_softhsm()
    directory = tmp_path_factory.mktemp("seal-token")
    (directory / "tokens").mkdir()
    conf = directory / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {directory / 'tokens'}\nobjectstore.backend = file\n")
    monkeypatch.setenv("SOFTHSM2_CONF", str(conf))
    pkcs11.lib(SOFTHSM_LIB).finalize()  # forget a configuration read earlier in this process
    try:
        subprocess.run(
            [util, "--init-token", "--free", "--label", TOKEN_LABEL, "--pin", PIN,
             "--so-pin", SO_PIN],
            check=True,
            capture_output=True,
        )  # fmt: skip
        key, chain = key_and_chain(role_p12[SignerRole.SEAL])
        _import_key(util, directory, key, "seal", "5e")
        token = pkcs11.lib(SOFTHSM_LIB).get_token(token_label=TOKEN_LABEL)
        with token.open(user_pin=PIN, rw=True) as session:
            _store_certificate(session, chain[0], "seal", b"\x5e")
        pkcs11.lib(SOFTHSM_LIB).finalize()
        yield chain
    finally:
        pkcs11.lib(SOFTHSM_LIB).finalize()


@pytest.fixture
def companion(settings, live_server, seal_token, school_a, principal, tmp_path):
    """The seal is signed with the USB token through the signing companion, which runs against
    the token for the live server's origin (exactly the origin of the browser's pages)."""
    register_credential(
        school=school_a, user=None, kind=CredentialKind.COMPANION, created_by=principal,
        certificates=seal_token,
    )  # fmt: skip
    server = start(make_config(tmp_path / "companion-state", sites=(live_server.url,)))
    settings.SIGNING_COMPANION_URL = server.url
    yield server
    stop(server)


def states(transcripts) -> list[str]:
    return [Transcript.objects.get(pk=t.pk).state for t in transcripts]


def waiting_job(principal, transcripts, step: str) -> TranscriptJob:
    """The principal starts a job of one signing step; the worker runs it until it waits for
    the signer."""
    job = in_worker(
        jobs.start_job, actor=principal, school=transcripts[0].school, year=transcripts[0].year,
        transcripts=transcripts, steps=[step], class_group=transcripts[0].class_group,
        in_background=False,
    )  # fmt: skip
    assert in_worker(jobs.run_job, job_id=job.pk)["status"] == JobStatus.WAITING
    job.refresh_from_db()
    return job


def open_job_as_principal(page: Page, principal, job: TranscriptJob) -> None:
    log_in(page, "principal", "pw-principal")
    expect_path(page, "/accounts/2fa/authenticate/")
    wait_for_fresh_totp_period()
    submit_totp(page, current_totp_code(principal))
    page.goto(reverse("hocba:job", args=[job.school.code, job.pk]))
    expect(page.locator("#job-progress")).to_have_attribute("data-status", JobStatus.WAITING)


def expect_status(page: Page, status: str) -> None:
    expect(page.locator("#job-progress")).to_have_attribute("data-status", status, timeout=WAIT_MS)


def shot(target, request: pytest.FixtureRequest, name: str) -> None:
    """A screenshot of a page or an element in test-artifacts/, named after the test."""
    ARTIFACTS.mkdir(exist_ok=True)
    target.screenshot(path=str(ARTIFACTS / f"{request.node.name}-{name}.png"))


def test_the_school_seal_is_applied_with_the_usb_token_through_the_companion(
    page: Page, context: BrowserContext, request, live_server, companion, signed_class,
    principal, role_signers, pki, pki_nssdb, tmp_path,  # noqa: F811
):  # fmt: skip
    in_worker(
        sign_batch, actor=principal, transcripts=signed_class, role=SignerRole.PRINCIPAL,
        signer=role_signers[SignerRole.PRINCIPAL],
    )  # fmt: skip
    job = waiting_job(principal, signed_class, SignerRole.SEAL)
    to_django: list[str] = []  # everything the browser sent to the Django server
    context.on(
        "request",
        lambda r: (
            to_django.append(f"{r.url} {r.headers} {r.post_data}")
            if r.url.startswith(live_server.url)
            else None
        ),
    )

    open_job_as_principal(page, principal, job)
    panel = page.locator("#companion-sign")
    expect(panel).to_be_visible()
    expect(page.locator("#job-waiting")).to_have_attribute("data-method", CredentialKind.COMPANION)
    shot(panel, request, "1-panel")
    page.locator("#companion-start").click()
    code = page.locator("[data-companion-pairing] [data-companion-code]")
    expect(code).to_have_text(re.compile(r"^[A-Z2-9]{4}-[A-Z2-9]{4}$"))
    shot(panel, request, "2-pairing-code")

    local = context.new_page()  # the companion's own page, on this computer
    local.goto(companion.url + "/")
    local.locator("input[name=code]").fill(code.inner_text())
    local.get_by_role("button", name="Ghép nối").click()
    # The job page goes on by itself: it hands the digests to the companion and waits.
    expect(page.locator("[data-companion-pairing]")).to_be_hidden()
    status = page.locator("[data-companion-status]")
    expect(status).to_have_text("Đang chờ bạn xác nhận trong chương trình ký số…")
    pin = local.locator("input[name=pin]")
    expect(pin).to_be_visible(timeout=WAIT_MS)  # the companion's page reloads by itself
    expect(local.locator("body")).to_contain_text("2 học bạ, 4 tệp")
    expect(local.locator("body")).to_contain_text(job.school.name)
    shot(local, request, "3-companion-request")
    pin.fill(PIN)
    local.get_by_role("button", name="Ký", exact=True).click()

    page.bring_to_front()
    expect_status(page, JobStatus.QUEUED)  # the values are in: the job goes on in a worker
    assert in_worker(jobs.run_job, job_id=job.pk)["status"] == JobStatus.FINISHED
    expect_status(page, JobStatus.FINISHED)
    expect(page.locator("#companion-sign")).to_have_count(0)
    shot(page, request, "4-finished")

    job.refresh_from_db()
    assert (job.done, job.failures, job.batches.get().authorisations) == (2, [], 1)
    assert states(signed_class) == [State.FINAL] * 2
    for transcript in signed_class:
        version = Transcript.objects.get(pk=transcript.pk).current_version
        assert_pdf_signatures(stored(version.pdf_file), 3, pki_nssdb, tmp_path)
        assert_xml_signatures(stored(version.xml_file), 3, pki.ca_pem, tmp_path)
    assert any("/values/" in line for line in to_django), to_django
    assert not [line for line in to_django if PIN in line]


@pytest.fixture
def phone_job(phone, signed_class, principal) -> TranscriptJob:
    """The principal signs the class as principal: one request waits on the phone."""
    job = waiting_job(principal, signed_class, SignerRole.PRINCIPAL)
    assert len(phone.pending(PHONE_USER)) == 1
    return job


def answer_on_the_phone(context: BrowserContext, phone: ConfirmServer, button: str) -> None:
    """A second tab plays the principal's phone: the service's page, one button pressed."""
    handset = context.new_page()
    handset.goto(phone.phone_url(PHONE_USER))
    expect(handset.locator("body")).to_contain_text("Số tệp cần ký: 4")
    handset.get_by_role("button", name=button).click()
    expect(handset.get_by_role("button", name=button)).to_have_count(0)  # nothing pending
    handset.close()


def test_the_principal_confirms_once_on_the_phone_in_a_second_tab(
    page: Page, context: BrowserContext, request, phone, phone_job, signed_class, principal
):
    open_job_as_principal(page, principal, phone_job)
    waiting = page.locator("#job-waiting")
    expect(waiting).to_have_attribute("data-method", CredentialKind.REMOTE)
    expect(page.locator("#job-time-left")).to_have_text(re.compile(r"\b[0-9]:[0-5][0-9]\b"))
    assert 0 < int(page.locator("#job-time-left").get_attribute("data-seconds")) <= 300
    expect(page.locator("#job-cancel")).to_be_visible()
    shot(page, request, "1-waiting")

    answer_on_the_phone(context, phone, "Xác nhận ký")
    assert in_worker(jobs.poll_batch, batch_id=phone_job.batches.get().pk) == BatchStatus.SIGNED
    expect_status(page, JobStatus.QUEUED)
    assert in_worker(jobs.run_job, job_id=phone_job.pk)["status"] == JobStatus.FINISHED
    expect_status(page, JobStatus.FINISHED)
    expect(page.locator("#job-waiting")).to_have_count(0)
    shot(page, request, "2-finished")

    assert phone.calls["submit"] == 1  # one request for the whole class
    assert states(signed_class) == [State.SIGNED_PRINCIPAL] * 2
    assert TranscriptSignature.objects.filter(role=SignerRole.PRINCIPAL).count() == 2


def test_a_rejected_request_signs_nothing_and_the_page_offers_to_start_again(
    page: Page, context: BrowserContext, request, phone, phone_job, signed_class, principal
):
    open_job_as_principal(page, principal, phone_job)
    expect(page.locator("#job-waiting")).to_be_visible()

    answer_on_the_phone(context, phone, "Từ chối")
    assert in_worker(jobs.poll_batch, batch_id=phone_job.batches.get().pk) == BatchStatus.REJECTED
    expect_status(page, JobStatus.FAILED)  # the page refreshes itself
    rejected = gettext("The signer rejected the request on their phone: nothing was signed.")
    expect(page.locator("#job-message")).to_have_text(rejected)
    expect(page.locator("#job-retry")).to_have_text(gettext("Start again"))
    expect(page.locator("#job-waiting")).to_have_count(0)
    shot(page, request, "rejected")

    assert states(signed_class) == [State.SIGNED_HOMEROOM] * 2
    assert not TranscriptSignature.objects.filter(role=SignerRole.PRINCIPAL).exists()
