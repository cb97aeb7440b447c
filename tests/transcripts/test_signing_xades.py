import dataclasses
import datetime
import re
import shlex
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml import (
    DigestAlgorithm,
    InvalidSignature,
    SignatureConstructionMethod,
    SignatureMethod,
)
from signxml.xades import XAdESSigner, XAdESVerifier

from tests.transcripts.conftest import finalise, pki_make_cert, stored
from transcripts.models import SignerRole
from transcripts.signing.formats import DS_NS, XADES_NS, prepare_xml, sign_xml, xml_signature_count
from transcripts.signing.signers import Pkcs12Signer, SigningError

PEM, SPKI = Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
# The transcript's shape: a namespaced data element inside an envelope without a namespace.
XML = (
    '<hocBaSo><hocBa xmlns="urn:sodiem:hocba:1" Id="data"><hoTen>Nguyễn Văn An</hoTen>'
    "<diem>8.5</diem></hocBa></hocBaSo>"
)
SIGNING_DOC = Path(__file__).resolve().parents[2] / "docs" / "signing.md"


def documented_xmlsec1_command() -> list[str]:
    """The xmlsec1 command of docs/signing.md's "Verifying with independent tools", as words."""
    section = SIGNING_DOC.read_text().split("## Verifying with independent tools", 1)[1]
    match = re.search(r"^    (xmlsec1 --verify .*?signed\.xml)$", section, re.M | re.S)
    assert match, "docs/signing.md lost its xmlsec1 command"
    return shlex.split(match.group(1).replace("\\\n", " "))


def xmlsec_verify(xml: bytes, index: int, ca_pem: Path, tmp_path: Path, *extra: str):
    """Run the documented command on the ``index``-th signature of ``xml``."""
    path = tmp_path / "signed.xml"
    path.write_bytes(xml)
    words = [str(ca_pem) if word == "ca.pem" else word for word in documented_xmlsec1_command()]
    words = [re.sub(r"\)\[\d+\]$", f")[{index}]", word) for word in words]
    assert words[-1] == "signed.xml"
    return subprocess.run(
        [*words[:-1], *extra, str(path)], capture_output=True, text=True, check=False
    )


@dataclasses.dataclass(frozen=True)
class LookAlike:
    key: rsa.RSAPrivateKey
    certificate: x509.Certificate
    ca: x509.Certificate

    @property
    def signer(self) -> Pkcs12Signer:
        return Pkcs12Signer(self.key, self.certificate, [self.ca])


def look_alike(pki, certificate: x509.Certificate) -> LookAlike:
    """A key and a certificate bearing the same subject as ``certificate``, issued by another CA
    that bears the test CA's name: what anyone can make with openssl."""
    (ca_name,) = pki.ca.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    ca_key, ca = pki_make_cert(common_name=str(ca_name.value), ca=True)
    (name,) = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    organisation = certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    key, forged = pki_make_cert(
        common_name=str(name.value),
        organisation=str(organisation[0].value) if organisation else None,
        issuer=(ca_key, ca),
    )
    assert forged.subject == certificate.subject and ca.subject == pki.ca.subject
    return LookAlike(key, forged, ca)


def signed_with_key_value(xml: bytes, key, chain: list[x509.Certificate]) -> bytes:
    """A signature as signxml makes it by default, and as ours were before issue 14: a bare
    KeyValue next to the X509Data chain."""
    root = etree.fromstring(xml)
    signer = XAdESSigner(
        method=SignatureConstructionMethod.detached,
        signature_algorithm=SignatureMethod.RSA_SHA256,
        digest_algorithm=DigestAlgorithm.SHA256,
    )
    root.append(signer.sign(root, key=key, cert=chain, reference_uri="#data"))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def only_signature(xml: bytes, index: int) -> etree._Element:
    root = etree.fromstring(xml)
    for position, signature in enumerate(root.findall(f"{{{DS_NS}}}Signature"), start=1):
        if position != index:
            root.remove(signature)
    return root


def sign_twice(person, seal) -> bytes:
    return sign_xml(sign_xml(XML.encode(), person, reference_id="data"), seal, reference_id="data")


def test_two_xades_signatures_each_verify_with_xmlsec1(
    pki, pki_person_signer, pki_seal_signer, tmp_path
):
    signed = sign_twice(pki_person_signer, pki_seal_signer)
    assert xml_signature_count(signed) == 2
    for index in (1, 2):
        run = xmlsec_verify(signed, index, pki.ca_pem, tmp_path)
        assert run.returncode == 0, run.stderr
        assert "SignedInfo References (ok/all): 3/3" in run.stderr


def test_two_xades_signatures_each_verify_with_signxml(pki, pki_person_signer, pki_seal_signer):
    signed = sign_twice(pki_person_signer, pki_seal_signer)
    for index, cert in ((1, pki.person), (2, pki.seal)):
        results = XAdESVerifier().verify(
            only_signature(signed, index), ca_pem_file=str(pki.ca_pem), expect_references=3
        )
        assert results[0].signature_key == cert.public_key().public_bytes(PEM, SPKI)
        assert results[0].signed_xml.get("Id") == "data"


def test_changed_data_fails_both_verifiers(pki, pki_person_signer, pki_seal_signer, tmp_path):
    tampered = sign_twice(pki_person_signer, pki_seal_signer).replace(b"8.5", b"9.5")
    assert xmlsec_verify(tampered, 1, pki.ca_pem, tmp_path).returncode != 0
    assert xmlsec_verify(tampered, 2, pki.ca_pem, tmp_path).returncode != 0
    with pytest.raises(InvalidSignature):
        XAdESVerifier().verify(
            only_signature(tampered, 1), ca_pem_file=str(pki.ca_pem), expect_references=3
        )


def test_xml_signed_through_softhsm_verifies(pki, pki_softhsm, tmp_path):
    signer = pki_softhsm()
    try:
        signed = sign_xml(XML.encode(), signer, reference_id="data")
    finally:
        signer.close()
    assert xmlsec_verify(signed, 1, pki.ca_pem, tmp_path).returncode == 0


def test_signing_the_root_element_is_refused(pki_person_signer):
    with pytest.raises(SigningError, match="child of the root"):
        sign_xml(b'<hocBa Id="data">x</hocBa>', pki_person_signer, reference_id="data")


# --- the key comes from the certificate, never from a bare KeyValue ---------------------------


def test_a_signature_carries_the_certificate_chain_and_no_bare_key(pki, pki_seal_signer):
    signature = only_signature(sign_xml(XML.encode(), pki_seal_signer, reference_id="data"), 1)
    key_info = signature.find(f".//{{{DS_NS}}}KeyInfo")
    assert key_info.find(f"{{{DS_NS}}}KeyValue") is None
    assert len(key_info.findall(f"{{{DS_NS}}}X509Data/{{{DS_NS}}}X509Certificate")) == 2


@pytest.mark.parametrize("bare_key", [True, False], ids=["with a KeyValue", "chain only"])
def test_the_documented_command_rejects_a_look_alike_certificate(
    pki, pki_person_signer, tmp_path, bare_key
):
    forger = look_alike(pki, pki.person)
    if bare_key:  # what a forger's tool writes by default
        forged = signed_with_key_value(XML.encode(), forger.key, [forger.certificate, forger.ca])
    else:
        forged = sign_xml(XML.encode(), forger.signer, reference_id="data")
    run = xmlsec_verify(forged, 1, pki.ca_pem, tmp_path)
    assert run.returncode != 0
    assert "certificate verification failed" in run.stderr, run.stderr
    with pytest.raises(InvalidSignature):  # and our own verifier (signxml) agrees
        XAdESVerifier().verify(
            etree.fromstring(forged), ca_pem_file=str(pki.ca_pem), expect_references=3
        )
    genuine = sign_xml(forged, pki_person_signer, reference_id="data")
    assert xmlsec_verify(genuine, 2, pki.ca_pem, tmp_path).returncode == 0


def test_signatures_stored_with_a_bare_key_still_verify(pki, tmp_path):
    old = signed_with_key_value(XML.encode(), pki.seal_key, [pki.seal, pki.ca])
    assert b"<ds:KeyValue>" in old
    run = xmlsec_verify(old, 1, pki.ca_pem, tmp_path)
    assert run.returncode == 0, run.stderr
    assert "SignedInfo References (ok/all): 3/3" in run.stderr


def test_an_expired_certificate_verifies_at_a_time_it_was_valid(tmp_path):
    now = datetime.datetime.now(datetime.UTC)
    years_ago = now - datetime.timedelta(days=2000)
    ca_key, ca = pki_make_cert(common_name="CA", ca=True, not_before=years_ago)
    key, expired = pki_make_cert(
        common_name="Nguyễn Văn An",
        issuer=(ca_key, ca),
        not_before=years_ago,
        not_after=now - datetime.timedelta(days=30),
    )
    ca_pem = tmp_path / "ca.pem"
    ca_pem.write_bytes(ca.public_bytes(Encoding.PEM))
    signed = sign_xml(XML.encode(), Pkcs12Signer(key, expired, [ca]), reference_id="data")
    run = xmlsec_verify(signed, 1, ca_pem, tmp_path)
    assert run.returncode != 0
    assert "certificate has expired" in run.stderr
    then = (now - datetime.timedelta(days=100)).strftime("%Y-%m-%d %H:%M:%S")
    run = xmlsec_verify(signed, 1, ca_pem, tmp_path, "--verification-gmt-time", then)
    assert run.returncode == 0, run.stderr


# --- what the signature is -----------------------------------------------------------------------


def descriptions(xml: bytes) -> list[str]:
    formats = etree.fromstring(xml).iter(f"{{{XADES_NS}}}DataObjectFormat")
    return [node.findtext(f"{{{XADES_NS}}}Description") for node in formats]


def test_the_xades_description_says_what_the_signature_is(pki_seal_signer):
    seal = "Chữ ký số của nhà trường (con dấu) trên học bạ"
    prepared = prepare_xml(XML.encode(), pki_seal_signer, reference_id="data", description=seal)
    assert descriptions(prepared.data) == [seal]
    assert descriptions(sign_xml(XML.encode(), pki_seal_signer, reference_id="data")) == [
        "Chữ ký số trên học bạ"
    ]


def test_each_role_signs_with_its_own_description(transcript, homeroom, principal, role_signers):
    finalise(transcript, homeroom, principal, role_signers)
    xml = stored(transcript.current_version.xml_file)
    assert descriptions(xml) == [
        "Chữ ký số của giáo viên chủ nhiệm trên học bạ",
        "Chữ ký số của hiệu trưởng trên học bạ",
        "Chữ ký số của nhà trường (con dấu) trên học bạ",
    ]
    assert [s.role for s in transcript.current_version.signatures.order_by("pk")] == [
        SignerRole.HOMEROOM,
        SignerRole.PRINCIPAL,
        SignerRole.SEAL,
    ]
    assert b"Default XAdES payload description" not in xml
