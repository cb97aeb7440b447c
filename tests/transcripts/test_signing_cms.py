import subprocess

from transcripts.signing.formats import sign_cms_detached

MANIFEST = "hoc-ba/0001.pdf  sha256:ab12…\nhoc-ba/0001.xml  sha256:cd34…\n".encode()


def openssl_verify(signature: bytes, content: bytes, pki, tmp_path) -> int:
    (tmp_path / "manifest.p7s").write_bytes(signature)
    (tmp_path / "manifest.txt").write_bytes(content)
    return subprocess.run(
        ["openssl", "cms", "-verify", "-binary", "-inform", "DER",
         "-in", str(tmp_path / "manifest.p7s"), "-content", str(tmp_path / "manifest.txt"),
         "-CAfile", str(pki.ca_pem), "-purpose", "any", "-out", "/dev/null"],
        capture_output=True,
        check=False,
    ).returncode  # fmt: skip


def test_detached_cms_verifies_with_openssl(pki, pki_seal_signer, tmp_path):
    signature = sign_cms_detached(MANIFEST, pki_seal_signer)
    assert openssl_verify(signature, MANIFEST, pki, tmp_path) == 0


def test_detached_cms_rejects_changed_manifest(pki, pki_seal_signer, tmp_path):
    signature = sign_cms_detached(MANIFEST, pki_seal_signer)
    assert openssl_verify(signature, MANIFEST.replace(b"0001", b"0002"), pki, tmp_path) != 0


def test_detached_cms_through_softhsm_verifies(pki, pki_softhsm, tmp_path):
    signer = pki_softhsm()
    try:
        signature = sign_cms_detached(MANIFEST, signer)
    finally:
        signer.close()
    assert openssl_verify(signature, MANIFEST, pki, tmp_path) == 0
