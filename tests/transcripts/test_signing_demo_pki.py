import pytest
from cryptography.hazmat.primitives.serialization import pkcs12
from django.core.management import CommandError, call_command

from transcripts.signing.certificates import check_signing_certificate, load_trust_anchors
from transcripts.signing.demo import DEMO_CA_NAME


def run_demo_pki(out, *extra) -> str:
    import io

    stdout = io.StringIO()
    call_command("demo_pki", "--out", str(out), "--school", "SCHOOLA", *extra, stdout=stdout)
    return stdout.getvalue()


def test_demo_pki_issues_certificates_that_chain_to_the_demo_ca(
    class_a, principal, school_a, tmp_path
):
    principal.full_name = "Trần Thị Hiệu Trưởng"
    principal.save()
    class_a.homeroom_teacher.full_name = "Lê Văn Chủ Nhiệm"
    class_a.homeroom_teacher.save()
    output = run_demo_pki(tmp_path, "--password", "demo-pki-pass")
    assert "3 created" in output
    anchors = load_trust_anchors([tmp_path / "demo-ca.pem"])
    assert DEMO_CA_NAME in anchors[0].subject.rfc4514_string()
    for name, holder in (("homeroom", "Lê Văn Chủ Nhiệm"), ("principal", "Trần Thị Hiệu Trưởng")):
        data = (tmp_path / f"SCHOOLA-{name}.p12").read_bytes()
        _, cert, chain = pkcs12.load_key_and_certificates(data, b"demo-pki-pass")
        check_signing_certificate(cert, holder_name=holder, chain=chain, trust_anchors=anchors)
    _, seal, _ = pkcs12.load_key_and_certificates(
        (tmp_path / "SCHOOLA-seal.p12").read_bytes(), b"demo-pki-pass"
    )
    check_signing_certificate(seal, organisation_name=school_a.name, trust_anchors=anchors)


def test_demo_pki_is_idempotent(class_a, principal, tmp_path):
    first = run_demo_pki(tmp_path)
    assert "PKCS#12 password (shown once)" in first
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    second = run_demo_pki(tmp_path)
    assert "0 created, 3 already present" in second
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_demo_pki_needs_the_first_password_to_add_people(class_a, principal, tmp_path):
    run_demo_pki(tmp_path, "--password", "first-pass")
    (tmp_path / "SCHOOLA-principal.p12").unlink()
    with pytest.raises(CommandError, match="Wrong --password"):
        run_demo_pki(tmp_path, "--password", "other-pass")
    assert "1 created" in run_demo_pki(tmp_path, "--password", "first-pass")


def test_demo_pki_registers_signing_credentials_once(class_a, principal, school_a, tmp_path):
    from transcripts.credentials import open_signer
    from transcripts.models import SigningCredential

    assert "3 signing credentials registered" in run_demo_pki(tmp_path, "--password", "pki-pass")
    assert "0 signing credentials registered" in run_demo_pki(tmp_path, "--password", "pki-pass")
    assert "0 signing credentials registered" in run_demo_pki(tmp_path)
    credentials = SigningCredential.objects.filter(school=school_a, is_active=True)
    assert credentials.count() == 3
    assert {c.user for c in credentials} == {class_a.homeroom_teacher, principal, None}
    seal = credentials.get(user=None)
    assert b"pki-pass" not in bytes(seal.pkcs12_encrypted)
    assert "BEGIN CERTIFICATE" in seal.certificate_pem
    signer = open_signer(credential=seal, secret="pki-pass")
    anchors = load_trust_anchors([tmp_path / "demo-ca.pem"])
    check_signing_certificate(
        signer.certificate, organisation_name=school_a.name, trust_anchors=anchors
    )
    (tmp_path / "SCHOOLA-principal.p12").unlink()
    assert "1 signing credentials registered" in run_demo_pki(tmp_path, "--password", "pki-pass")
    assert SigningCredential.objects.filter(user=principal, is_active=True).count() == 1
    assert SigningCredential.objects.filter(user=principal, is_active=False).count() == 1
