import subprocess

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from lxml import etree
from signxml import InvalidSignature
from signxml.xades import XAdESVerifier

from transcripts.signing.formats import DS_NS, XADES_NS, sign_xml, xml_signature_count
from transcripts.signing.signers import SigningError

PEM, SPKI = Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
XML = '<hocBaSo><hocBa Id="data"><hoTen>Nguyễn Văn An</hoTen><diem>8.5</diem></hocBa></hocBaSo>'


def xmlsec_verify(xml: bytes, index: int, pki, tmp_path) -> subprocess.CompletedProcess:
    path = tmp_path / "signed.xml"
    path.write_bytes(xml)
    xpath = f"(//*[local-name()='Signature' and namespace-uri()='{DS_NS}'])[{index}]"
    return subprocess.run(
        ["xmlsec1", "--verify", "--trusted-pem", str(pki.ca_pem),
         "--id-attr:Id", "hocBa",
         "--id-attr:Id", f"{XADES_NS}:SignedProperties",
         "--id-attr:Id", f"{DS_NS}:KeyInfo",
         "--node-xpath", xpath, str(path)],
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip


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
        run = xmlsec_verify(signed, index, pki, tmp_path)
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
    assert xmlsec_verify(tampered, 1, pki, tmp_path).returncode != 0
    assert xmlsec_verify(tampered, 2, pki, tmp_path).returncode != 0
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
    assert xmlsec_verify(signed, 1, pki, tmp_path).returncode == 0


def test_signing_the_root_element_is_refused(pki_person_signer):
    with pytest.raises(SigningError, match="child of the root"):
        sign_xml(b'<hocBa Id="data">x</hocBa>', pki_person_signer, reference_id="data")
