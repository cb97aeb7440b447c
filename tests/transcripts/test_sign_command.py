"""manage.py sign_transcripts: confirm, sign and seal a tiny class as the real users, with the
certificate's password from SIGNING_SECRET."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from schools.models import ClassGroup
from tests.conftest import add_students
from tests.transcripts.conftest import (  # noqa: F401
    P12_PASSWORD,
    assert_pdf_signatures,
    assert_xml_signatures,
    complete_year,
    make_p12,
    role_p12,
    signing_setup,
    stored,
)
from transcripts.models import CredentialKind, SigningCredential, State, Transcript
from transcripts.signing.signers import encrypt_at_rest


@pytest.fixture
def tiny_class(signing_setup, school_a, homeroom) -> ClassGroup:  # noqa: F811
    class_group = ClassGroup.objects.create(
        year=school_a.current_year(), name="6A9", grade=6, homeroom_teacher=homeroom
    )
    for student in add_students(class_group, [("Đặng Thu Hà", "F"), ("Vũ Đức Anh", "M")], 200):
        complete_year(class_group, student)
    return class_group


def sign(*args: str) -> str:
    out = io.StringIO()
    with translation.override("en"):
        call_command(
            "sign_transcripts", "--school", "SCHOOLA", "--year", "2025-2026", *args, stdout=out
        )
    return out.getvalue()


def test_confirm_sign_and_seal_a_class(
    tiny_class, credentials, monkeypatch, pki, pki_nssdb, tmp_path
):
    monkeypatch.setenv("SIGNING_SECRET", P12_PASSWORD)
    assert "2 done, 0 skipped, 0 failed." in sign("--class", "6A9", "--as", "homeroom", "--confirm")
    output = sign("--class", "6A9", "--as", "homeroom")
    assert "OK     6A9    Đặng Thu Hà" in output and "2 done" in output
    assert "2 done" in sign("--as", "principal")
    assert "2 done" in sign("--as", "principal", "--seal")
    assert "Nothing to sign." in sign("--as", "principal", "--seal")  # re-running is harmless
    transcripts = Transcript.objects.filter(class_group=tiny_class)
    assert [t.state for t in transcripts] == [State.FINAL, State.FINAL]
    version = transcripts[0].current_version
    assert_pdf_signatures(stored(version.pdf_file), 3, pki_nssdb, tmp_path)
    assert_xml_signatures(stored(version.xml_file), 3, pki.ca_pem, tmp_path)


def test_a_user_without_the_role_is_refused(tiny_class, credentials, teacher, monkeypatch):
    monkeypatch.setenv("SIGNING_SECRET", P12_PASSWORD)
    with pytest.raises(CommandError, match="not the homeroom teacher"):
        sign("--class", "6A9", "--as", "teacher", "--confirm")
    sign("--class", "6A9", "--as", "homeroom", "--confirm")
    with pytest.raises(CommandError, match="may not sign"):
        sign("--as", "teacher")
    with pytest.raises(CommandError, match="Only the principal"):
        sign("--as", "homeroom", "--seal")
    assert set(Transcript.objects.values_list("state", flat=True)) == {State.READY}


def test_the_secret_comes_from_the_environment(tiny_class, credentials, monkeypatch):
    sign("--class", "6A9", "--as", "homeroom", "--confirm")
    monkeypatch.delenv("SIGNING_SECRET", raising=False)
    with pytest.raises(CommandError, match="SIGNING_SECRET"):
        sign("--as", "homeroom")
    monkeypatch.setenv("SIGNING_SECRET", "wrong password")
    with pytest.raises(CommandError, match="wrong password, or the file is damaged"):
        sign("--as", "homeroom")


def test_failures_are_listed_and_exit_with_status_1(tiny_class, credentials, monkeypatch, pki):
    monkeypatch.setenv("SIGNING_SECRET", P12_PASSWORD)
    sign("--class", "6A9", "--as", "homeroom", "--confirm")
    SigningCredential.objects.filter(user__username="homeroom").update(is_active=False)
    SigningCredential.objects.create(
        school=tiny_class.year.school,
        user=tiny_class.homeroom_teacher,
        kind=CredentialKind.PKCS12,
        pkcs12_encrypted=encrypt_at_rest(make_p12(pki, common_name="Someone Else")),
    )
    out = io.StringIO()
    with pytest.raises(CommandError) as error, translation.override("en"):
        call_command("sign_transcripts", "--school", "SCHOOLA", "--year", "2025-2026",
                     "--as", "homeroom", stdout=out)  # fmt: skip
    assert error.value.returncode == 1
    assert out.getvalue().count("FAILED") == 2 and "Someone Else" in out.getvalue()
    assert "0 done, 0 skipped, 2 failed." in out.getvalue()
    assert set(Transcript.objects.values_list("state", flat=True)) == {State.READY}


def test_a_signer_who_confirms_on_the_phone_signs_from_the_command_line(
    tiny_class,
    credentials,
    monkeypatch,
    settings,
    role_p12,  # noqa: F811
    school_a,
    homeroom,
):
    """The command runs the screens' job and waits for the one confirmation of the class."""
    from cryptography.hazmat.primitives.serialization import pkcs12

    from transcripts.credentials import register_credential
    from transcripts.models import SignerRole
    from transcripts.signing.demo_services import ConfirmServer

    monkeypatch.setenv("SIGNING_SECRET", P12_PASSWORD)
    sign("--class", "6A9", "--as", "homeroom", "--confirm")
    monkeypatch.delenv("SIGNING_SECRET")  # a phone confirmation needs no secret here
    key, cert, chain = pkcs12.load_key_and_certificates(
        role_p12[SignerRole.HOMEROOM], P12_PASSWORD.encode()
    )
    with ConfirmServer({"gvcn": (key, [cert, *chain])}, api_key="khoa") as phone:
        settings.SIGNING_SERVICES = {
            "phone": {"adapter": "confirm-v1", "base_url": phone.base_url, "api_key": "khoa"}
        }
        register_credential(
            school=school_a, user=homeroom, kind=CredentialKind.REMOTE, created_by=homeroom,
            certificates=[cert, *chain], config={"service": "phone", "user_id": "gvcn"},
        )  # fmt: skip
        phone.set_behaviour("gvcn", "confirm", delay=1)  # the teacher confirms after a second
        output = sign("--class", "6A9", "--as", "homeroom")
    assert "Waiting for homeroom to confirm 2 transcripts (4 files) on their phone" in output
    assert "2 done, 0 skipped, 0 failed." in output and phone.calls["submit"] == 1
    states = Transcript.objects.filter(class_group=tiny_class).values_list("state", flat=True)
    assert set(states) == {State.SIGNED_HOMEROOM}
