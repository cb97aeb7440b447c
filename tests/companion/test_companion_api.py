"""The signing companion over its real socket, against a real SoftHSM2 token: CORS and origins,
pairing, certificates, a batch confirmed with the PIN on the companion's own page."""

from __future__ import annotations

import base64
import json
import re
import threading

import pytest
from cryptography.hazmat.primitives import serialization
from sodiem_companion.pairing import STATE_FILE
from sodiem_companion.pkcs11_token import verify_signature

from tests.companion.conftest import (
    EVIL,
    HOLDER,
    OTHER_SITE,
    PIN,
    SCHOOL,
    SITE,
    TRANSCRIPT,
    b64,
    call,
    csrf_of,
    digests,
    make_config,
    page,
    pair,
    sha256_hex,
    start,
    start_pairing,
    stop,
    submit,
    summary,
    ui_post,
    wait_signed,
)

# --- Origins and CORS ------------------------------------------------------------------------


def test_status_answers_an_allowed_origin_with_cors_headers(companion):
    answer = call(companion, "GET", "/v1/status")
    assert answer.status == 200
    assert answer.headers["Access-Control-Allow-Origin"] == SITE
    assert answer.headers["Vary"] == "Origin"
    assert answer.json() == {"app": "sodiem-companion", "version": "0.1.0", "paired": False}


@pytest.mark.parametrize("origin", [EVIL, None, "null", SITE + "/", "http://school.example"])
def test_api_refuses_a_missing_or_foreign_origin(companion, origin):
    answer = call(companion, "GET", "/v1/status", origin=origin)
    assert answer.status == 403
    assert "error" in answer.json()
    assert "Access-Control-Allow-Origin" not in answer.headers


def test_foreign_origin_cannot_start_a_pairing(companion):
    answer = call(companion, "POST", "/v1/pair", origin=EVIL, body={"code": "K7WX3PQM"})
    assert answer.status == 403
    assert "Ghép nối" not in page(companion)


def test_preflight_allows_private_network_access_when_asked(companion):
    headers = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, authorization",
        "Access-Control-Request-Private-Network": "true",
    }
    answer = call(companion, "OPTIONS", "/v1/sign", headers=headers)
    assert answer.status == 204
    assert answer.headers["Access-Control-Allow-Origin"] == SITE
    assert answer.headers["Access-Control-Allow-Methods"] == "GET, POST, OPTIONS"
    assert answer.headers["Access-Control-Allow-Headers"] == "Content-Type, Authorization"
    assert answer.headers["Access-Control-Max-Age"] == "600"
    assert answer.headers["Access-Control-Allow-Private-Network"] == "true"


def test_preflight_without_private_network_request_has_no_pna_header(companion):
    answer = call(companion, "OPTIONS", "/v1/status")
    assert answer.status == 204
    assert "Access-Control-Allow-Private-Network" not in answer.headers


def test_preflight_from_a_foreign_origin_is_refused(companion):
    headers = {"Access-Control-Request-Private-Network": "true"}
    answer = call(companion, "OPTIONS", "/v1/status", origin=EVIL, headers=headers)
    assert answer.status == 403
    assert "Access-Control-Allow-Private-Network" not in answer.headers


def test_another_host_name_is_refused(companion):
    """A site whose name resolves to 127.0.0.1 (DNS rebinding) sends its own Host."""
    answer = call(
        companion,
        "GET",
        "/",
        origin=None,
        headers={"Host": f"evil.example:{companion.server_address[1]}"},
    )
    assert answer.status == 403


def test_server_listens_on_loopback_only(companion):
    assert companion.server_address[0] == "127.0.0.1"


# --- Pairing ---------------------------------------------------------------------------------


def test_wrong_code_then_right_code_pairs_and_token_is_given_once(companion):
    pairing_id = start_pairing(companion, "K7WX3PQM")
    assert "Nhập mã ghép nối hiển thị trên trình duyệt" in page(companion)
    assert SITE in page(companion)

    assert ui_post(companion, f"/ui/pair/{pairing_id}", {"code": "K7WX3PQN"}).status == 303
    assert "Mã không đúng (còn 4 lần thử)" in page(companion)
    assert call(companion, "GET", f"/v1/pair/{pairing_id}").json() == {
        "status": "pending",
        "token": None,
    }

    ui_post(companion, f"/ui/pair/{pairing_id}", {"code": "k7wx-3pqm"})
    first = call(companion, "GET", f"/v1/pair/{pairing_id}").json()
    second = call(companion, "GET", f"/v1/pair/{pairing_id}").json()
    assert first["status"] == "paired" and len(first["token"]) >= 40
    assert second == {"status": "paired", "token": None}
    assert call(companion, "GET", "/v1/status", token=first["token"]).json()["paired"] is True


def test_five_wrong_codes_refuse_the_pairing(companion):
    pairing_id = start_pairing(companion)
    csrf = csrf_of(page(companion))
    for _attempt in range(5):
        ui_post(companion, f"/ui/pair/{pairing_id}", {"code": "AAAAAAAA"}, csrf=csrf)
    assert "Nhập mã ghép nối" not in page(companion)
    ui_post(companion, f"/ui/pair/{pairing_id}", {"code": "K7WX3PQM"}, csrf=csrf)
    assert call(companion, "GET", f"/v1/pair/{pairing_id}").json() == {
        "status": "refused",
        "token": None,
    }


def test_pairing_expires_after_five_minutes(companion, clock):
    pairing_id = start_pairing(companion)
    csrf = csrf_of(page(companion))
    clock.now += 5 * 60 + 1
    ui_post(companion, f"/ui/pair/{pairing_id}", {"code": "K7WX3PQM"}, csrf=csrf)
    assert call(companion, "GET", f"/v1/pair/{pairing_id}").json()["status"] == "expired"


def test_pairing_can_be_refused_on_the_page(companion):
    pairing_id = start_pairing(companion)
    ui_post(companion, f"/ui/pair/{pairing_id}", {"action": "refuse"})
    assert call(companion, "GET", f"/v1/pair/{pairing_id}").json()["status"] == "refused"


@pytest.mark.parametrize("code", ["ABC12", "ABCDEFGHJKL", "ABCD-EFGH", "", 12345678, None])
def test_pairing_code_must_be_6_to_10_letters_or_digits(companion, code):
    answer = call(companion, "POST", "/v1/pair", body={"code": code})
    assert answer.status == 400
    assert answer.headers["Access-Control-Allow-Origin"] == SITE


def test_pairing_is_seen_only_by_its_origin(companion):
    pairing_id = start_pairing(companion, origin=SITE)
    ui_post(companion, f"/ui/pair/{pairing_id}", {"code": "K7WX3PQM"})
    assert call(companion, "GET", f"/v1/pair/{pairing_id}", origin=OTHER_SITE).status == 404
    assert call(companion, "GET", f"/v1/pair/{pairing_id}", origin=SITE).json()["token"]


def test_token_works_only_for_the_origin_that_paired(companion):
    token = pair(companion, SITE)
    assert call(companion, "GET", "/v1/status", token=token).json()["paired"] is True
    other = call(companion, "GET", "/v1/status", origin=OTHER_SITE, token=token)
    assert other.json()["paired"] is False
    assert call(companion, "GET", "/v1/certificates", origin=OTHER_SITE, token=token).status == 401


def test_pairing_survives_a_restart_with_the_same_state_dir(hsm, state_dir, clock):
    first = start(make_config(state_dir), clock)
    try:
        token = pair(first)
    finally:
        stop(first)
    second = start(make_config(state_dir), clock)
    try:
        assert call(second, "GET", "/v1/status", token=token).json()["paired"] is True
        assert call(second, "GET", "/v1/certificates", token=token).status == 200
    finally:
        stop(second)


def test_state_file_holds_a_hash_of_the_token_not_the_token(companion, state_dir):
    token = pair(companion)
    stored = (state_dir / STATE_FILE).read_text()
    assert token not in stored
    assert json.loads(stored)["tokens"][0]["origin"] == SITE
    assert (state_dir / STATE_FILE).stat().st_mode & 0o077 == 0


def test_unpairing_on_the_page_revokes_the_token(companion):
    token = pair(companion)
    ui_post(companion, "/ui/unpair", {"origin": SITE})
    assert call(companion, "GET", "/v1/status", token=token).json()["paired"] is False


def test_new_pairings_and_requests_bring_up_the_local_page(companion, hsm, clock):
    opened = threading.Semaphore(0)
    companion.companion.open_page = opened.release  # the seam --no-browser leaves empty
    token = pair(companion)
    assert opened.acquire(timeout=5)
    submit(companion, token, hsm.sha256, digests(1))
    assert not opened.acquire(timeout=0.5)  # not a new window for every request at once
    clock.now += 11
    submit(companion, token, hsm.sha256, digests(1))
    assert opened.acquire(timeout=5)


# --- The local page --------------------------------------------------------------------------


def test_local_page_cannot_be_framed_or_cached(companion):
    answer = call(companion, "GET", "/", origin=None)
    assert answer.status == 200
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]
    assert answer.headers["Cache-Control"] == "no-store"
    assert '<script src="/ui/page.js"' in answer.text
    assert not re.search(r'(src|href)="(https?:)?//', answer.text)  # nothing from elsewhere


@pytest.mark.parametrize("origin", [SITE, EVIL])
def test_local_page_refuses_another_origin(companion, origin):
    assert call(companion, "GET", "/", origin=origin).status == 403


def test_local_page_accepts_its_own_origin(companion):
    assert call(companion, "GET", "/", origin=companion.url).status == 200


def test_form_post_from_a_site_is_refused_even_with_the_csrf_token(companion):
    pairing_id = start_pairing(companion)
    csrf = csrf_of(page(companion))
    answer = call(
        companion,
        "POST",
        f"/ui/pair/{pairing_id}",
        origin=SITE,
        data=f"csrf={csrf}&code=K7WX3PQM".encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status == 403
    assert call(companion, "GET", f"/v1/pair/{pairing_id}").json()["status"] == "pending"


def test_form_post_without_the_csrf_token_is_refused(companion):
    pairing_id = start_pairing(companion)
    answer = ui_post(companion, f"/ui/pair/{pairing_id}", {"code": "K7WX3PQM"}, csrf="guess")
    assert answer.status == 403
    assert call(companion, "GET", f"/v1/pair/{pairing_id}").json()["status"] == "pending"


# --- Certificates ----------------------------------------------------------------------------


def test_certificates_need_a_pairing(companion):
    answer = call(companion, "GET", "/v1/certificates")
    assert answer.status == 401
    assert answer.headers["Access-Control-Allow-Origin"] == SITE


def test_certificates_list_the_token(companion, hsm):
    token = pair(companion)
    listed = {
        c["sha256"]: c for c in call(companion, "GET", "/v1/certificates", token=token).json()
    }
    assert set(listed) == {hsm.sha256, sha256_hex(hsm.by_modulus)}
    mine = listed[hsm.sha256]
    assert mine["id"] == "0a"
    assert mine["label"] == "holder"
    assert mine["subject"] == hsm.certificate.subject.rfc4514_string()
    assert HOLDER in mine["subject"]
    assert mine["not_after"] == hsm.certificate.not_valid_after_utc.isoformat()
    assert mine["pem"] == hsm.certificate.public_bytes(serialization.Encoding.PEM).decode()


# --- Signing ---------------------------------------------------------------------------------


def test_batch_of_90_is_signed_after_the_pin_is_typed_on_the_page(companion, hsm):
    token = pair(companion)
    values = digests(90)
    request_id = submit(companion, token, hsm.sha256, values)
    assert call(companion, "GET", f"/v1/sign/{request_id}", token=token).json()["status"] == (
        "pending"
    )
    html = page(companion)
    for words in (SCHOOL, "9A1", "Giáo viên chủ nhiệm", HOLDER, "45 học bạ, 90 tệp", SITE):
        assert words in html
    assert hsm.certificate.subject.rfc4514_string() in html

    ui_post(companion, f"/ui/sign/{request_id}", {"action": "sign", "pin": PIN})
    state = wait_signed(companion, token, request_id)

    assert state["status"] == "signed"
    signatures = [base64.b64decode(s) for s in state["signatures"]]
    assert len(signatures) == 90
    assert all(
        verify_signature(hsm.certificate, d, s) for d, s in zip(values, signatures, strict=True)
    )
    assert "Đã ký 90 tệp" in page(companion)


def test_key_is_found_by_modulus_when_ids_differ(companion, hsm):
    token = pair(companion)
    values = digests(2)
    request_id = submit(companion, token, sha256_hex(hsm.by_modulus), values)
    ui_post(companion, f"/ui/sign/{request_id}", {"action": "sign", "pin": PIN})
    state = wait_signed(companion, token, request_id)
    assert state["status"] == "signed"
    assert verify_signature(hsm.by_modulus, values[1], base64.b64decode(state["signatures"][1]))


def test_wrong_pin_leaves_the_request_pending_with_a_message(companion, hsm):
    token = pair(companion)
    request_id = submit(companion, token, hsm.sha256, digests(4))
    ui_post(companion, f"/ui/sign/{request_id}", {"action": "sign", "pin": "000000"})
    state = call(companion, "GET", f"/v1/sign/{request_id}", token=token).json()
    assert state["status"] == "pending"
    assert state["message"].startswith("Sai mã PIN")
    assert "Sai mã PIN" in page(companion)

    ui_post(companion, f"/ui/sign/{request_id}", {"action": "sign", "pin": PIN})
    assert wait_signed(companion, token, request_id)["status"] == "signed"


def test_rejected_request_is_reported_rejected(companion, hsm):
    token = pair(companion)
    request_id = submit(companion, token, hsm.sha256, digests(2))
    ui_post(companion, f"/ui/sign/{request_id}", {"action": "reject"})
    state = call(companion, "GET", f"/v1/sign/{request_id}", token=token).json()
    assert state["status"] == "rejected"
    assert state["signatures"] is None


def test_unconfirmed_request_expires_after_ten_minutes(companion, hsm, clock):
    token = pair(companion)
    request_id = submit(companion, token, hsm.sha256, digests(2))
    clock.now += 10 * 60 + 1
    assert call(companion, "GET", f"/v1/sign/{request_id}", token=token).json()["status"] == (
        "expired"
    )
    ui_post(companion, f"/ui/sign/{request_id}", {"action": "sign", "pin": PIN})
    assert call(companion, "GET", f"/v1/sign/{request_id}", token=token).json()["status"] == (
        "expired"
    )


def test_request_is_seen_only_by_its_origin(companion, hsm):
    token = pair(companion, SITE)
    other_token = pair(companion, OTHER_SITE)
    request_id = submit(companion, token, hsm.sha256, digests(1))
    answer = call(companion, "GET", f"/v1/sign/{request_id}", origin=OTHER_SITE, token=other_token)
    assert answer.status == 404


def test_signing_needs_a_pairing(companion, hsm):
    body = {"certificate_sha256": hsm.sha256, "digests": b64(digests(1)), "summary": summary(1)}
    assert call(companion, "POST", "/v1/sign", body=body).status == 401
    assert call(companion, "POST", "/v1/sign", body=body, token="made-up").status == 401


def _bad_bodies(certificate_sha256: str) -> dict[str, dict]:
    good = {
        "certificate_sha256": certificate_sha256,
        "algorithm": "sha256",
        "digests": b64(digests(2)),
        "summary": summary(2),
    }
    short = base64.b64encode(b"\x01" * 31).decode()
    return {
        "31-byte digest": good | {"digests": [good["digests"][0], short]},
        "2001 digests": good
        | {"digests": b64(digests(1)) * 2001, "summary": summary(2000) | {"documents": None}},
        "no digest": good | {"digests": []},
        "not base64": good | {"digests": ["not base64!" * 3]},
        "unknown certificate": good | {"certificate_sha256": "ab" * 32},
        "not a sha256": good | {"certificate_sha256": "abc"},
        "sha1": good | {"algorithm": "sha1"},
        "no summary": {k: v for k, v in good.items() if k != "summary"},
        "no school": good | {"summary": summary(2) | {"school": ""}},
        "documents differ from digests": good | {"summary": summary(4)},
        "class names not a list": good | {"summary": summary(2) | {"class_names": "9A1"}},
    }


@pytest.mark.parametrize("case", list(_bad_bodies("0" * 64)))
def test_bad_sign_requests_are_refused_with_a_reason(companion, hsm, case):
    token = pair(companion)
    answer = call(companion, "POST", "/v1/sign", token=token, body=_bad_bodies(hsm.sha256)[case])
    assert answer.status == 400, answer.text
    assert answer.json()["error"]
    assert answer.headers["Access-Control-Allow-Origin"] == SITE
    assert "Yêu cầu ký số" not in page(companion)


def test_body_over_one_megabyte_is_refused(companion):
    token = pair(companion)
    answer = call(
        companion,
        "POST",
        "/v1/sign",
        token=token,
        data=b"[" + b" " * (1024 * 1024) + b"]",
        headers={"Content-Type": "application/json"},
    )
    assert answer.status == 413


@pytest.mark.parametrize("data", [b"null", b"[1, 2]", b'{"digests": '])
def test_sign_request_must_be_a_json_object(companion, data):
    token = pair(companion)
    answer = call(
        companion,
        "POST",
        "/v1/sign",
        token=token,
        data=data,
        headers={"Content-Type": "application/json"},
    )
    assert answer.status == 400
    assert answer.json()["error"]


def test_sign_request_must_be_json(companion):
    token = pair(companion)
    answer = call(
        companion,
        "POST",
        "/v1/sign",
        token=token,
        data=b"{}",
        headers={"Content-Type": "text/plain"},
    )
    assert answer.status == 415


# --- The PIN stays here ----------------------------------------------------------------------


def test_pin_never_appears_in_an_answer_or_the_state_file(companion, hsm, state_dir):
    TRANSCRIPT.clear()
    token = pair(companion)
    request_id = submit(companion, token, hsm.sha256, digests(3))
    ui_post(companion, f"/ui/sign/{request_id}", {"action": "sign", "pin": "864209"})
    ui_post(companion, f"/ui/sign/{request_id}", {"action": "sign", "pin": PIN})
    wait_signed(companion, token, request_id)
    page(companion)
    call(companion, "GET", "/ui/version", origin=None)

    assert len(TRANSCRIPT) > 10
    for answer in TRANSCRIPT:
        everything = answer.body + json.dumps(answer.headers).encode()
        assert PIN.encode() not in everything
        assert b"864209" not in everything
    for path in state_dir.rglob("*"):
        assert PIN.encode() not in path.read_bytes()
