import pytest
from django.utils import translation

from tests.transcripts.conftest import PKI_PASSWORD
from transcripts.signing.signers import (
    Pkcs12Signer,
    SigningError,
    decrypt_at_rest,
    encrypt_at_rest,
    sha256,
)


def test_pkcs12_signer_gives_certificate_chain_and_verifiable_signatures(pki, pki_person_signer):
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, utils

    assert pki_person_signer.certificate == pki.person and pki_person_signer.chain == [pki.ca]
    digests = [sha256(b"a"), sha256(b"b")]
    for digest, value in zip(digests, pki_person_signer.sign_digests(digests), strict=True):
        pki.person.public_key().verify(
            value, digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256())
        )


def test_wrong_pkcs12_password_is_a_clear_error(pki):
    with translation.override("en"), pytest.raises(SigningError, match="wrong password"):
        Pkcs12Signer.from_bytes(pki.person_p12, "sai-mat-khau")


def test_pkcs12_at_rest_round_trip_and_tamper_detection(pki, settings):
    blob = encrypt_at_rest(pki.person_p12)
    assert pki.person_p12 not in blob
    assert decrypt_at_rest(blob) == pki.person_p12
    assert Pkcs12Signer.from_bytes(decrypt_at_rest(blob), PKI_PASSWORD).certificate == pki.person
    with pytest.raises(SigningError):
        decrypt_at_rest(blob[:-1] + bytes([blob[-1] ^ 1]))
    settings.SECRET_KEY = "another-secret-key-" * 3
    with pytest.raises(SigningError, match="SECRET_KEY"):
        decrypt_at_rest(blob)
