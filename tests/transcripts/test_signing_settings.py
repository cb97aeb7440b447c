"""The signing settings pages: each signer (and the school seal) chooses how they sign — a
certificate file, a token or HSM on the server (SoftHSM2), a remote signing service (the fake
services on a real socket) or a USB token through the signing companion — with the certificate
checked against the test CA and a fresh two-factor code; nothing is stored on a refusal."""

from __future__ import annotations

import datetime
import re
import socket

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.totp import has_totp
from schools.models import SchoolYear
from tests.transcripts.conftest import (
    P12_PASSWORD,
    PKI_PERSON,
    PKI_SCHOOL,
    SOFTHSM_LIB,
    SOFTHSM_PIN,
    make_p12,
    pki_make_cert,
)
from tests.transcripts.test_jobs import code
from transcripts.credentials import account_secrets, register_credential, stored_certificates
from transcripts.models import CredentialKind, SigningCredential
from transcripts.signing.demo_services import ConfirmServer, CscServer
from transcripts.signing.signers import decrypt_at_rest

pytestmark = pytest.mark.usefixtures("english", "signing_setup")

API_KEY = "khoa-api-thu-nghiem"
NOW = datetime.datetime.now(datetime.UTC)


def my_url(school) -> str:
    return reverse("hocba:my_signing", args=[school.code])


def seal_url(school) -> str:
    return reverse("hocba:seal_signing", args=[school.code])


def p12_file(data: bytes, name: str = "chu-ky.p12") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/x-pkcs12")


def p12_of(key, cert, chain) -> bytes:
    return pkcs12.serialize_key_and_certificates(
        b"test", key, cert, chain, serialization.BestAvailableEncryption(P12_PASSWORD.encode())
    )


def pem(*certificates) -> str:
    return "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in certificates)


def post_file(client, user, url: str, data: bytes, password: str = P12_PASSWORD):
    client.force_login(user)
    return code(
        client, user, url, {"method": "pkcs12", "pkcs12_file": p12_file(data),
                            "pkcs12_password": password},
    )  # fmt: skip


def post_pem(client, user, url: str, certificate_pem: str, field: str = "certificate_pem"):
    client.force_login(user)
    return code(client, user, url, {"method": "companion", field: certificate_pem})


def errors(response) -> str:
    assert response.status_code == 400
    return response.content.decode()


def nothing_stored() -> bool:
    return not SigningCredential.objects.exists()


# --- certificate file (PKCS#12) ------------------------------------------------------------------


def test_a_homeroom_teacher_registers_a_certificate_file(english, pki, school_a, class_a, homeroom):
    data = make_p12(pki, common_name="homeroom")
    response = post_file(english, homeroom, my_url(school_a), data)
    assert response.status_code == 302 and response.url == my_url(school_a)
    credential = SigningCredential.objects.get()
    assert (credential.user, credential.kind, credential.is_active) == (
        homeroom, CredentialKind.PKCS12, True,
    )  # fmt: skip
    assert decrypt_at_rest(bytes(credential.pkcs12_encrypted)) == data
    assert bytes(credential.pkcs12_encrypted) != data  # encrypted at rest
    assert stored_certificates(credential)[0].subject.rfc4514_string() == "CN=homeroom"
    assert credential.config == {} and account_secrets(credential) == {}
    page = english.get(response.url).content.decode()
    assert "You now sign with: Certificate file (PKCS#12)" in page


def test_the_password_is_never_stored(pki, english, school_a, class_a, homeroom):
    post_file(english, homeroom, my_url(school_a), make_p12(pki, common_name="homeroom"))
    credential = SigningCredential.objects.get()
    assert P12_PASSWORD not in str(credential.config) + credential.certificate_pem
    assert P12_PASSWORD.encode() not in bytes(credential.pkcs12_encrypted)


def test_a_new_method_deactivates_the_older_one(pki, english, school_a, class_a, homeroom):
    older = register_credential(
        school=school_a, user=homeroom, kind=CredentialKind.COMPANION, created_by=homeroom,
        certificates=[pki.issue(common_name="homeroom")[1]],
    )  # fmt: skip
    post_file(english, homeroom, my_url(school_a), make_p12(pki, common_name="homeroom"))
    older.refresh_from_db()
    assert not older.is_active
    assert SigningCredential.objects.get(is_active=True).kind == CredentialKind.PKCS12


def test_a_wrong_password_is_refused_and_nothing_stored(pki, english, school_a, class_a, homeroom):
    data = make_p12(pki, common_name="homeroom")
    page = errors(post_file(english, homeroom, my_url(school_a), data, password="sai-mat-khau"))
    assert "Cannot open the certificate file: wrong password" in page
    assert nothing_stored()


def test_someone_elses_certificate_is_refused(pki, english, school_a, class_a, homeroom):
    data = make_p12(pki, common_name="Người Khác")
    page = errors(post_file(english, homeroom, my_url(school_a), data))
    assert "The certificate belongs to “Người Khác”, not to “homeroom”." in page
    assert nothing_stored()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda pki: pki.issue(
                common_name="homeroom",
                not_before=NOW - datetime.timedelta(days=400),
                not_after=NOW - datetime.timedelta(days=1),
            ),
            "The certificate expired on",
        ),
        (
            lambda pki: pki_make_cert(common_name="homeroom"),
            "The certificate is not issued by a trusted certification authority.",
        ),
    ],
    ids=["expired", "untrusted CA"],
)
def test_expired_or_untrusted_certificates_are_refused(
    pki, english, school_a, class_a, homeroom, make, message
):
    key, cert = make(pki)
    page = errors(post_file(english, homeroom, my_url(school_a), p12_of(key, cert, [pki.ca])))
    assert message in page
    assert nothing_stored()


def test_a_wrong_two_factor_code_is_refused(pki, english, school_a, class_a, homeroom):
    english.force_login(homeroom)
    data = make_p12(pki, common_name="homeroom")
    response = english.post(
        my_url(school_a),
        {"method": "pkcs12", "pkcs12_file": p12_file(data), "pkcs12_password": P12_PASSWORD,
         "otp": "000000"},
    )  # fmt: skip
    assert "That code is not valid" in errors(response)
    assert nothing_stored()


def test_a_file_over_100_kb_is_refused(english, school_a, class_a, homeroom):
    page = errors(post_file(english, homeroom, my_url(school_a), b"0" * (100 * 1024 + 1)))
    assert "A certificate file is at most 100 KB" in page
    assert nothing_stored()


def test_the_principal_registers_a_certificate_in_their_name(pki, english, school_a, principal):
    response = post_file(
        english, principal, my_url(school_a), make_p12(pki, common_name="principal")
    )
    assert response.status_code == 302
    assert SigningCredential.objects.get().user == principal


# --- USB token on the signer's computer (signing companion) -------------------------------------


def test_the_certificate_read_by_the_companion_is_stored(pki, english, school_a, class_a, homeroom):
    _key, cert = pki.issue(common_name="homeroom")
    response = post_pem(english, homeroom, my_url(school_a), pem(cert))
    assert response.status_code == 302
    credential = SigningCredential.objects.get()
    assert credential.kind == CredentialKind.COMPANION
    assert stored_certificates(credential) == [cert]
    assert bytes(credential.pkcs12_encrypted) == b""


def test_without_javascript_a_pasted_certificate_is_stored(
    pki, english, school_a, class_a, homeroom
):
    _key, cert = pki.issue(common_name="homeroom")
    response = post_pem(english, homeroom, my_url(school_a), pem(cert, pki.ca), field="pasted_pem")
    assert response.status_code == 302
    assert stored_certificates(SigningCredential.objects.get()) == [cert, pki.ca]


@pytest.mark.parametrize(
    ("posted", "message"),
    [
        ("", "Read the certificates on your USB token first"),
        ("-----BEGIN CERTIFICATE-----\nnot base64\n", "This is not a certificate in PEM format."),
    ],
    ids=["nothing read", "not a certificate"],
)
def test_the_companion_method_needs_a_certificate(
    english, school_a, class_a, homeroom, posted, message
):
    assert message in errors(post_pem(english, homeroom, my_url(school_a), posted))
    assert nothing_stored()


def test_a_companion_certificate_of_someone_else_is_refused(
    pki, english, school_a, class_a, homeroom
):
    page = errors(post_pem(english, homeroom, my_url(school_a), pem(pki.person)))
    assert f"The certificate belongs to “{PKI_PERSON}”" in page
    assert nothing_stored()


# --- remote signing services ----------------------------------------------------------------------


@pytest.fixture
def homeroom_at_service(pki):
    """The homeroom teacher's key and certificate, held by a remote service."""
    return pki.issue(common_name="homeroom")


@pytest.fixture
def phone(pki, settings, homeroom_at_service):
    """A phone-confirmation service knowing the homeroom teacher as "gv-chu-nhiem"."""
    key, cert = homeroom_at_service
    users = {"gv-chu-nhiem": (key, [cert, pki.ca]), "an": (pki.person_key, [pki.person, pki.ca])}
    with ConfirmServer(users, api_key=API_KEY) as server:
        settings.SIGNING_SERVICES = {
            "phone-test": {"adapter": "confirm-v1", "label": "Ký trên điện thoại (thử)",
                           "base_url": server.base_url, "api_key": API_KEY},
        }  # fmt: skip
        yield server


def post_account(client, user, url: str, service: str, **account):
    client.force_login(user)
    fields = {f"{service}__{name}": value for name, value in account.items()}
    return code(client, user, url, {"method": "remote", "service": service, **fields})


def test_an_account_at_a_phone_confirmation_service_is_registered(
    english, phone, homeroom_at_service, school_a, class_a, homeroom
):
    response = post_account(
        english, homeroom, my_url(school_a), "phone-test", user_id="gv-chu-nhiem"
    )
    assert response.status_code == 302
    credential = SigningCredential.objects.get()
    assert credential.kind == CredentialKind.REMOTE
    assert credential.config == {"service": "phone-test", "user_id": "gv-chu-nhiem"}
    assert stored_certificates(credential)[0] == homeroom_at_service[1]
    assert phone.requests == {}  # reading the certificate asks the signer nothing
    page = english.get(response.url).content.decode()
    assert "Remote signing service: Ký trên điện thoại (thử)" in page


def test_the_services_certificate_must_be_the_signers(english, phone, school_a, class_a, homeroom):
    page = errors(post_account(english, homeroom, my_url(school_a), "phone-test", user_id="an"))
    assert f"The certificate belongs to “{PKI_PERSON}”, not to “homeroom”." in page
    assert nothing_stored()


def test_an_unknown_account_is_refused(english, phone, school_a, class_a, homeroom):
    page = errors(post_account(english, homeroom, my_url(school_a), "phone-test", user_id="ai"))
    assert "does not know the user ID “ai”" in page
    assert nothing_stored()


def test_an_unreachable_service_is_a_clear_error(english, settings, school_a, class_a, homeroom):
    with socket.socket() as probe:  # a port nobody listens on any more
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.SIGNING_SERVICES = {
        "phone-test": {"adapter": "confirm-v1", "label": "Ký trên điện thoại (thử)",
                       "base_url": f"http://127.0.0.1:{port}/api/v1", "api_key": API_KEY},
    }  # fmt: skip
    page = errors(post_account(english, homeroom, my_url(school_a), "phone-test", user_id="gv"))
    assert "The signing service “Ký trên điện thoại (thử)” cannot be reached" in page
    assert nothing_stored()


def test_a_csc_account_keeps_its_password_encrypted(
    pki, english, settings, homeroom_at_service, school_a, class_a, homeroom
):
    key, cert = homeroom_at_service
    with CscServer(key, [cert, pki.ca], token=None, users={"gv01": "mat-khau-csc"}) as csc:
        settings.SIGNING_SERVICES = {
            "csc-test": {"adapter": "csc", "label": "CSC (thử)", "base_url": csc.base_url}
        }
        response = post_account(
            english, homeroom, my_url(school_a), "csc-test",
            credential_id=csc.credential_id, username="gv01", password="mat-khau-csc",
        )  # fmt: skip
    assert response.status_code == 302
    credential = SigningCredential.objects.get()
    assert credential.config == {
        "service": "csc-test", "credential_id": csc.credential_id, "username": "gv01",
    }  # fmt: skip
    assert account_secrets(credential) == {"password": "mat-khau-csc"}
    assert b"mat-khau-csc" not in bytes(credential.secrets_encrypted)
    assert stored_certificates(credential) == [cert, pki.ca]


def test_without_configured_services_the_remote_method_is_not_offered(
    english, settings, school_a, class_a, homeroom
):
    settings.SIGNING_SERVICES = {}
    english.force_login(homeroom)
    page = english.get(my_url(school_a)).content.decode()
    assert 'value="remote"' not in page and 'value="pkcs12"' in page


# --- token or HSM on the server (PKCS#11, SoftHSM2) -----------------------------------------------


def post_token(client, user, url: str, library: str = SOFTHSM_LIB):
    client.force_login(user)
    return code(
        client, user, url,
        {"method": "pkcs11", "pkcs11_library": library, "pkcs11_token": "sodiem-test",
         "pkcs11_key": "person", "pkcs11_pin": SOFTHSM_PIN},
    )  # fmt: skip


def test_a_token_on_the_server_is_registered(
    pki, pki_softhsm, english, settings, school_a, class_a, homeroom
):
    settings.SIGNING_PKCS11_LIBRARIES = [SOFTHSM_LIB]
    homeroom.full_name = PKI_PERSON  # the token holds Nguyễn Văn An's key
    homeroom.save()
    response = post_token(english, homeroom, my_url(school_a))
    assert response.status_code == 302
    credential = SigningCredential.objects.get()
    assert credential.kind == CredentialKind.PKCS11
    assert credential.config == {"lib": SOFTHSM_LIB, "token": "sodiem-test", "key": "person"}
    assert stored_certificates(credential) == [pki.person]
    assert SOFTHSM_PIN not in str(credential.config)


def test_a_library_the_server_does_not_allow_is_refused(english, settings, school_a, principal):
    settings.SIGNING_PKCS11_LIBRARIES = [SOFTHSM_LIB]
    other = "/opt/other/libpkcs11.so"
    page = errors(post_token(english, principal, my_url(school_a), library=other))
    assert f"Select a valid choice. {other} is not one of the available choices." in page
    assert nothing_stored()


def test_without_allowed_libraries_the_token_method_is_not_offered(
    english, settings, school_a, principal
):
    settings.SIGNING_PKCS11_LIBRARIES = []
    page = errors(post_token(english, principal, my_url(school_a)))
    assert "Select a valid choice. pkcs11 is not one of the available choices." in page
    assert 'value="pkcs11"' not in page
    assert nothing_stored()


# --- the school seal ------------------------------------------------------------------------------


def seal_p12(pki) -> bytes:
    return make_p12(pki, common_name=PKI_SCHOOL, organisation=PKI_SCHOOL)


def test_the_principal_registers_the_school_seal(pki, english, school_a, principal):
    response = post_file(english, principal, seal_url(school_a), seal_p12(pki))
    assert response.status_code == 302 and response.url == seal_url(school_a)
    credential = SigningCredential.objects.get()
    assert credential.user is None and credential.created_by == principal
    page = english.get(response.url).content.decode()
    assert "The school seal now signs with: Certificate file (PKCS#12)" in page


def test_the_admin_registers_the_seals_usb_token(pki, english, school_a, admin):
    response = post_pem(english, admin, seal_url(school_a), pem(pki.seal))
    assert response.status_code == 302
    credential = SigningCredential.objects.get()
    assert (credential.user, credential.kind) == (None, CredentialKind.COMPANION)


def test_the_seal_needs_a_certificate_naming_the_school(pki, english, school_a, principal):
    page = errors(
        post_file(english, principal, seal_url(school_a), make_p12(pki, common_name="principal"))
    )
    assert f"not to “{PKI_SCHOOL}”" in page
    assert nothing_stored()


def test_the_seal_page_offers_the_usb_token_first(english, school_a, principal):
    english.force_login(principal)
    page = english.get(seal_url(school_a)).content.decode()
    assert page.index('value="companion"') < page.index('value="pkcs12"')
    assert re.search(r'value="companion"[^>]*checked', page)
    assert page.index('id="section-companion"') < page.index('id="section-pkcs12"')


def test_the_personal_page_preselects_the_active_method(pki, english, school_a, principal):
    register(school_a, principal, pki.issue(common_name="principal")[1], holder=principal)
    english.force_login(principal)
    page = english.get(my_url(school_a)).content.decode()
    assert page.index('value="pkcs12"') < page.index('value="companion"')
    assert re.search(r'value="companion"[^>]*checked', page)
    assert f'href="{seal_url(school_a)}" id="link-seal-signing"' in page


# --- who may --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "page", "status"),
    [
        ("teacher", "my", 403),
        ("admin", "my", 403),
        ("homeroom", "seal", 403),
        ("teacher", "seal", 403),
        ("outsider", "my", 404),
        ("outsider", "seal", 404),
    ],
)
def test_others_may_not_register_anything(
    request, pki, english, school_a, class_a, principal, persona, page, status
):
    user = request.getfixturevalue(persona)
    if not has_totp(user):  # a valid code: only the role is refused
        TOTP.activate(user, generate_totp_secret())
    url = (my_url if page == "my" else seal_url)(school_a)
    response = post_file(english, user, url, make_p12(pki, common_name=user.display_name))
    assert response.status_code == status
    assert nothing_stored()


def test_a_homeroom_teacher_of_no_current_class_signs_nothing_here(
    english, school_a, class_a, homeroom
):
    SchoolYear.objects.filter(pk=class_a.year_id).update(is_current=False)
    english.force_login(homeroom)
    assert english.get(my_url(school_a)).status_code == 403


# --- what the page shows --------------------------------------------------------------------------


def register(school, user, cert, *, holder=None) -> SigningCredential:
    return register_credential(
        school=school, user=holder, kind=CredentialKind.COMPANION, created_by=user,
        certificates=[cert],
    )  # fmt: skip


def test_the_page_shows_the_active_certificate(pki, english, school_a, class_a, homeroom):
    _key, cert = pki.issue(common_name="homeroom", organisation=PKI_SCHOOL)
    register(school_a, homeroom, cert, holder=homeroom)
    english.force_login(homeroom)
    page = english.get(my_url(school_a)).content.decode()
    assert 'id="active-method">USB token on your own computer (signing companion)<' in page
    assert 'id="active-holder">homeroom<' in page
    assert f'id="active-organisation">{PKI_SCHOOL}<' in page
    assert 'id="active-issuer">Test CA — Sổ điểm<' in page
    assert 'id="active-valid-until"' in page
    assert "certificate-expiring" not in page and "certificate-expired" not in page


def test_the_page_warns_before_the_certificate_expires(pki, english, school_a, class_a, homeroom):
    _key, cert = pki.issue(common_name="homeroom", not_after=NOW + datetime.timedelta(days=30))
    register(school_a, homeroom, cert, holder=homeroom)
    english.force_login(homeroom)
    page = english.get(my_url(school_a)).content.decode()
    assert 'id="certificate-expiring"' in page and "expires in 29 days" in page


def test_the_page_says_when_the_certificate_has_expired(pki, english, school_a, principal):
    _key, cert = pki.issue(
        common_name=PKI_SCHOOL, organisation=PKI_SCHOOL,
        not_before=NOW - datetime.timedelta(days=400), not_after=NOW - datetime.timedelta(days=2),
    )  # fmt: skip
    register(school_a, principal, cert)
    english.force_login(principal)
    page = english.get(seal_url(school_a)).content.decode()
    assert 'id="certificate-expired"' in page


def test_without_a_method_the_page_says_so(english, school_a, class_a, homeroom):
    english.force_login(homeroom)
    page = english.get(my_url(school_a)).content.decode()
    assert 'id="no-credential"' in page and 'id="active-credential"' not in page


def test_the_signing_screens_link_to_the_settings(english, school_a, class_a, homeroom, principal):
    english.force_login(principal)
    queue = english.get(reverse("hocba:queue", args=[school_a.code])).content.decode()
    assert my_url(school_a) in queue and seal_url(school_a) in queue
    assert 'id="menu-my-signing"' in queue  # the leadership has it in the user menu
    english.force_login(homeroom)
    class_page = english.get(reverse("hocba:class", args=[school_a.code, class_a.pk]))
    assert f'href="{my_url(school_a)}" id="link-my-signing"' in class_page.content.decode()
    # A teacher's menu has no link (finding out whether they are a homeroom teacher would cost
    # a query on every page): their class's transcript page has it.
    assert 'id="menu-my-signing"' not in class_page.content.decode()


def test_the_page_starts_from_the_active_remote_service(
    english, settings, school_a, principal, pki
):
    from transcripts.credentials import register_credential

    settings.SIGNING_SERVICES = {
        "phone": {"adapter": "confirm-v1", "base_url": "http://127.0.0.1:9", "api_key": "k"},
        "csc": {"adapter": "csc", "base_url": "http://127.0.0.1:9/csc/v2"},
    }
    register_credential(
        school=school_a, user=principal, kind="remote", created_by=principal,
        certificates=[pki.issue(common_name="principal")[1]],
        config={"service": "phone", "user_id": "ht-42"},
    )  # fmt: skip
    english.force_login(principal)
    page = english.get(my_url(school_a)).content.decode()
    assert '<option value="phone" selected>' in page
    assert 'value="ht-42"' in page
