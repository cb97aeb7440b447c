"""`manage.py demo_pki` keeps the demo CA's private key and the PKCS#12 files readable by their
owner only (0600, in a 0700 directory), and tightens files an earlier run left open."""

import stat

from tests.transcripts.test_signing_demo_pki import run_demo_pki

PRIVATE = ["demo-ca-key.pem", "demo-tsa.p12", "SCHOOLA-seal.p12", "SCHOOLA-principal.p12"]


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_demo_cas_key_and_the_pkcs12_files_are_the_owners_only(class_a, principal, tmp_path):
    out = tmp_path / "pki"
    run_demo_pki(out, "--password", "pki-pass")
    assert mode(out) == 0o700
    for name in PRIVATE:
        assert mode(out / name) == 0o600, name
    assert mode(out / "demo-ca.pem") == 0o644  # the trust anchor is public


def test_files_an_earlier_run_left_open_are_tightened(class_a, principal, tmp_path):
    out = tmp_path / "pki"
    run_demo_pki(out, "--password", "pki-pass")
    out.chmod(0o755)
    for name in PRIVATE:
        (out / name).chmod(0o644)
    assert "0 created" in run_demo_pki(out, "--password", "pki-pass")
    assert mode(out) == 0o700
    for name in PRIVATE:
        assert mode(out / name) == 0o600, name
