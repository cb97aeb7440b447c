import datetime

import pytest

from tests.transcripts.conftest import PKI_PERSON, PKI_SCHOOL, pki_make_cert
from transcripts.signing.certificates import (
    SigningRefused,
    check_signing_certificate,
    load_trust_anchors,
    normalise_name,
)

NOW = datetime.datetime.now(datetime.UTC)


pytestmark = pytest.mark.usefixtures("english")  # tests/conftest.py


def test_valid_person_and_seal_certificates_pass(pki):
    check_signing_certificate(pki.person, holder_name="NGUYEN VAN  AN", trust_anchors=[pki.ca])
    check_signing_certificate(
        pki.seal, organisation_name="trường thcs ánh dương", trust_anchors=[pki.ca]
    )


def test_trust_anchors_come_from_settings(pki, settings):
    settings.SIGNING_TRUST_ANCHORS = [str(pki.ca_pem)]
    assert load_trust_anchors() == [pki.ca]
    check_signing_certificate(pki.person, holder_name=PKI_PERSON)


def test_no_configured_anchor_is_refused(pki, settings):
    settings.SIGNING_TRUST_ANCHORS = []
    with pytest.raises(SigningRefused, match="No trusted certification authority"):
        check_signing_certificate(pki.person, holder_name=PKI_PERSON)


def test_expired_certificate_is_refused(pki):
    _, cert = pki.issue(
        common_name=PKI_PERSON,
        not_before=NOW - datetime.timedelta(days=400),
        not_after=NOW - datetime.timedelta(days=1),
    )
    with pytest.raises(SigningRefused, match="expired on"):
        check_signing_certificate(cert, holder_name=PKI_PERSON, trust_anchors=[pki.ca])


def test_not_yet_valid_certificate_is_refused(pki):
    with pytest.raises(SigningRefused, match="not valid before"):
        check_signing_certificate(
            pki.person, now=NOW - datetime.timedelta(days=30), trust_anchors=[pki.ca]
        )


def test_certificate_from_another_ca_is_refused(pki):
    other_ca = pki_make_cert(common_name=pki.ca.subject.rfc4514_string()[3:], ca=True)
    _, cert = pki_make_cert(common_name=PKI_PERSON, issuer=other_ca)
    with pytest.raises(SigningRefused, match="not issued by a trusted certification authority"):
        check_signing_certificate(cert, holder_name=PKI_PERSON, trust_anchors=[pki.ca])


def test_certificate_through_an_intermediate_ca_passes(pki):
    intermediate = pki.issue(common_name="Sub CA", ca=True)
    _, cert = pki_make_cert(common_name=PKI_PERSON, issuer=intermediate)
    check_signing_certificate(
        cert, holder_name=PKI_PERSON, chain=[intermediate[1]], trust_anchors=[pki.ca]
    )


def test_wrong_holder_name_is_refused(pki):
    with pytest.raises(SigningRefused, match="belongs to “Nguyễn Văn An”, not to “Nguyễn Văn Anh”"):
        check_signing_certificate(pki.person, holder_name="Nguyễn Văn Anh", trust_anchors=[pki.ca])


def test_seal_of_another_school_is_refused(pki):
    with pytest.raises(SigningRefused, match=PKI_SCHOOL):
        check_signing_certificate(
            pki.seal, organisation_name="Trường THCS Bình Minh", trust_anchors=[pki.ca]
        )


def test_certificate_without_signing_key_usage_is_refused(pki):
    _, cert = pki.issue(common_name=PKI_PERSON, key_usage=False)
    with pytest.raises(SigningRefused, match="does not allow digital signatures"):
        check_signing_certificate(cert, holder_name=PKI_PERSON, trust_anchors=[pki.ca])


def test_names_compare_without_case_diacritics_or_spacing():
    assert normalise_name("  ĐẶNG Thị  Ánh ") == normalise_name("dang thi anh")
    assert normalise_name("Nguyễn Văn An") != normalise_name("Nguyễn Văn Anh")
