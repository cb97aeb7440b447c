"""The phone-confirmation adapter (services/confirm.py) against the fake service speaking the
Sổ điểm remote confirmation protocol v1 over a real socket, and `manage.py
signing_test_services`."""

import datetime
import html
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, utils
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command
from django.utils import translation

from tests.transcripts.conftest import P12_PASSWORD, PKI_PERSON, PKI_SCHOOL, make_p12
from transcripts.signing import services
from transcripts.signing.demo_services import ConfirmServer
from transcripts.signing.signers import SigningError, sha256
from transcripts.signing.sources import (
    CANCELLED,
    EXPIRED,
    FAILED,
    REJECTED,
    BatchSummary,
    Refused,
    Signed,
    Waiting,
)

API_KEY = "khoa-api-thu-nghiem"
DIGESTS = [sha256(f"tệp {n}".encode()) for n in range(90)]
SUMMARY = BatchSummary(
    school=PKI_SCHOOL,
    role="Hiệu trưởng",
    signer=PKI_PERSON,
    transcripts=45,
    documents=90,
    class_names=("6A1",),
)


def assert_values_verify(certificate: x509.Certificate, digests, values) -> None:
    assert len(values) == len(digests)
    for digest, value in zip(digests, values, strict=True):
        certificate.public_key().verify(
            value, digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256())
        )


def configure(settings, base_url: str, **options) -> services.RemoteService:
    settings.SIGNING_SERVICES = {
        "phone-test": {
            "adapter": "confirm-v1",
            "label": "Ký trên điện thoại (thử)",
            "base_url": base_url,
            "api_key": API_KEY,
        }
        | options
    }
    return services.service("phone-test")


@pytest.fixture
def phone(pki):
    users = {"an": (pki.person_key, [pki.person, pki.ca]), "truong": (pki.seal_key, [pki.seal])}
    with ConfirmServer(users, api_key=API_KEY) as server:
        yield server


@pytest.fixture
def source(settings, phone):
    return configure(settings, phone.base_url).source(account={"user_id": "an"})


def ask(source, request_key: str = "batch-1") -> Waiting:
    outcome = source.request(DIGESTS, summary=SUMMARY, request_key=request_key)
    assert isinstance(outcome, Waiting)
    return outcome


def phone_page(phone, user_id: str = "an") -> str:
    with urllib.request.urlopen(phone.phone_url(user_id), timeout=5) as response:  # noqa: S310
        return response.read().decode()


def press(phone, page: str, button: str) -> str:
    """Submit the first request's form ``button`` (confirm / reject) as the phone's browser
    does; returns the page it is redirected to."""
    action = re.search(rf"action='([^']+/{button})'", page).group(1)
    request = urllib.request.Request(phone.address + action, data=b"", method="POST")  # noqa: S310
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
        assert response.url == phone.phone_url("an")
        return response.read().decode()


def test_the_source_has_the_signers_certificate_and_chain(pki, source):
    assert source.certificate == pki.person and source.chain == [pki.ca]
    assert source.authorisations == 0


def test_a_batch_waits_until_confirmed_then_its_values_verify(pki, phone, source):
    waiting = ask(source)
    assert source.authorisations == 1 and phone.calls["submit"] == 1
    assert json.loads(json.dumps(waiting.state)) == waiting.state
    now = datetime.datetime.now(datetime.UTC)
    assert now < waiting.expires_at <= now + datetime.timedelta(seconds=301)
    assert isinstance(source.poll(waiting.state), Waiting)
    assert phone.requests[waiting.state["request_id"]].signatures == []  # nothing before "yes"
    phone.confirm(waiting.state["request_id"])
    signed = source.poll(waiting.state)
    assert isinstance(signed, Signed)
    assert_values_verify(pki.person, DIGESTS, signed.values)


def test_the_phone_page_shows_the_batch_and_confirming_there_signs(pki, phone, source):
    waiting = ask(source)
    page = phone_page(phone)
    assert SUMMARY.describe() in html.unescape(page)
    assert "Số tệp cần ký: <b>90</b>" in page and "Hết hạn sau <b class='count'>0" in page
    assert '<meta http-equiv="refresh" content="2">' in page and "Từ chối" in page
    after = press(phone, page, "confirm")
    assert "Xác nhận ký" not in after and "đã ký" in after
    signed = source.poll(waiting.state)
    assert_values_verify(pki.person, DIGESTS, signed.values)


def test_rejecting_on_the_phone_refuses_the_batch(phone, source):
    waiting = ask(source)
    press(phone, phone_page(phone), "reject")
    with translation.override("en"):
        outcome = source.poll(waiting.state)
    assert outcome == Refused(
        REJECTED, "The signer rejected the request on their phone: nothing was signed."
    )


@pytest.mark.parametrize(("behaviour", "reason"), [("reject", REJECTED), ("expire", EXPIRED)])
def test_a_phone_that_rejects_or_lets_expire_refuses(phone, source, behaviour, reason):
    phone.set_behaviour("an", behaviour)
    outcome = source.poll(ask(source).state)
    assert isinstance(outcome, Refused) and outcome.reason == reason
    assert [r.signatures for r in phone.requests.values()] == [[]]


def test_a_phone_that_confirms_after_a_delay_is_waited_for(pki, phone, source):
    phone.set_behaviour("an", "confirm", delay=0.4)
    waiting = ask(source)
    assert isinstance(source.poll(waiting.state), Waiting)
    time.sleep(0.5)
    assert_values_verify(pki.person, DIGESTS, source.poll(waiting.state).values)


def test_cancel_withdraws_a_waiting_request(phone, source):
    waiting = ask(source)
    source.cancel(waiting.state)
    assert phone.calls["cancel"] == 1 and phone.pending("an") == []
    assert source.poll(waiting.state).reason == CANCELLED
    assert "Xác nhận ký" not in phone_page(phone)


def test_resubmitting_a_batch_with_its_key_returns_the_same_request(phone, source):
    first, second = ask(source, "batch-7"), ask(source, "batch-7")
    assert first.state["request_id"] == second.state["request_id"]
    assert len(phone.pending("an")) == 1
    assert phone_page(phone).count("Xác nhận ký") == 1
    assert ask(source, "batch-8").state["request_id"] != first.state["request_id"]


def test_a_resubmission_after_confirmation_gives_the_values_at_once(phone, source):
    phone.confirm(ask(source, "batch-9").state["request_id"])
    outcome = source.request(DIGESTS, summary=SUMMARY, request_key="batch-9")
    assert isinstance(outcome, Signed) and len(outcome.values) == 90


def test_a_wrong_number_of_values_is_refused(phone, source):
    waiting = ask(source)
    phone.tamper = "drop"
    phone.confirm(waiting.state["request_id"])
    with translation.override("en"):
        outcome = source.poll(waiting.state)
    assert outcome == Refused(FAILED, "The signing service returned 89 signatures for 90 digests.")


def test_a_wrong_api_key_is_a_clear_error(settings, phone):
    service = configure(settings, phone.base_url, api_key="khoa-sai")
    with translation.override("en"), pytest.raises(SigningError) as error:
        service.source(account={"user_id": "an"})
    assert str(error.value) == (
        "The signing service “Ký trên điện thoại (thử)” refused this server's API key "
        "(HTTP 401); tell the administrator."
    )


def test_an_unknown_user_is_a_clear_error(settings, phone):
    service = configure(settings, phone.base_url)
    with translation.override("en"), pytest.raises(SigningError, match="does not know the user"):
        service.source(account={"user_id": "ai-do"})


def test_a_batch_above_max_hashes_is_refused_before_anything_is_sent(settings, phone):
    source = configure(settings, phone.base_url, max_hashes=50).source(account={"user_id": "an"})
    with translation.override("en"), pytest.raises(SigningError, match="at most 50 in one request"):
        ask(source)
    assert phone.calls["submit"] == 0


def test_the_service_refuses_hashes_that_are_not_sha256_digests(phone):
    body = {"user_id": "an", "client_request_id": "x", "hash_algorithm": "sha256", "hashes": []}
    for hashes_ in (["c2hvcnQ="], ["bm90IGJhc2U2NA!!"], [DIGESTS[0].hex()]):
        request = urllib.request.Request(  # noqa: S310 - http to the fake
            f"{phone.base_url}/sign-requests",
            data=json.dumps(body | {"hashes": hashes_}).encode(),
            headers={"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"},
            method="POST",
        )
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(request, timeout=5)  # noqa: S310
        assert error.value.code == 400
    assert phone.requests == {}


def test_a_slow_service_is_a_clear_time_out(settings, phone):
    service = configure(settings, phone.base_url, timeout=0.3)
    phone.stall = 1.0
    with translation.override("en"), pytest.raises(SigningError, match=r"within 0\.3 seconds"):
        service.source(account={"user_id": "an"})


def test_an_unreachable_service_is_a_clear_error(settings):
    service = configure(settings, "http://127.0.0.1:9/api/v1", timeout=2)
    with translation.override("en"), pytest.raises(SigningError, match="cannot be reached"):
        service.source(account={"user_id": "an"})


# --- manage.py signing_test_services ----------------------------------------------------------


def test_the_test_services_refuse_to_run_without_debug(settings):
    settings.DEBUG = False
    with translation.override("en"), pytest.raises(CommandError, match="DEBUG=1"):
        call_command("signing_test_services")


def start_test_services(directory: Path, config: Path) -> tuple[subprocess.Popen, str]:
    command = [
        sys.executable, "manage.py", "signing_test_services", "--csc-port", "0",
        "--confirm-port", "0", "--dir", str(directory), "--password", P12_PASSWORD,
        "--write-config", str(config),
    ]  # fmt: skip
    process = subprocess.Popen(
        command,
        cwd=django_settings.BASE_DIR,
        env=os.environ | {"DEBUG": "1", "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = ""
    while "Ctrl-C stops." not in output:
        line = process.stdout.readline()
        if not line:
            process.wait(timeout=10)
            pytest.fail(f"signing_test_services stopped: {output}")
        output += line
    return process, output


def test_the_test_services_command_serves_the_demo_people(pki, settings, tmp_path):
    people = tmp_path / "demo-pki"
    people.mkdir()
    for name, holder in (("gvcn6a1", "Cô Lan"), ("hieutruong", PKI_PERSON), ("seal", PKI_SCHOOL)):
        (people / f"01001001-{name}.p12").write_bytes(make_p12(pki, common_name=holder))
    config = tmp_path / "signing-services.json"
    process, output = start_test_services(people, config)
    try:
        settings.SIGNING_SERVICES = json.loads(config.read_text())
        assert re.search(r"hieutruong: http://127\.0\.0\.1:\d+/phone/hieutruong", output)
        assert "/phone/gvcn6a1" in output and "/phone/seal" not in output
        csc = services.service("demo-csc").source(
            account={"credential_id": "gvcn6a1"}, secret=P12_PASSWORD
        )
        signed = csc.request(DIGESTS, summary=SUMMARY, request_key="k1")
        assert_values_verify(csc.certificate, DIGESTS, signed.values)
        phone = services.service("demo-phone").source(account={"user_id": "hieutruong"})
        waiting = ask(phone)
        page_url = re.search(r"hieutruong: (\S+)", output).group(1)
        with urllib.request.urlopen(page_url, timeout=5) as response:  # noqa: S310
            action = re.search(r"action='([^']+/confirm)'", response.read().decode()).group(1)
        origin = page_url.split("/phone/")[0]
        urllib.request.urlopen(origin + action, data=b"", timeout=5)  # noqa: S310
        assert_values_verify(phone.certificate, DIGESTS, phone.poll(waiting.state).values)
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
