"""Where a signature value comes from: a PKCS#12 file, a PKCS#11 token or a remote CSC service.

Every backend signs a SHA-256 *digest* with RSA PKCS#1 v1.5; the formats (PAdES, XAdES, CMS) in
:mod:`transcripts.signing.formats` compute the digest and wrap the value, so any backend works for
any format. Keys are loaded once per signer object and reused: re-parsing an RSA key costs
~70 ms per signature (see docs/signing.md).
"""

from __future__ import annotations

import abc
import base64
import hashlib
import json
import os
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import pkcs12
from django.utils.translation import gettext as _

SHA256_OID = "2.16.840.1.101.3.4.2.1"
SHA256_WITH_RSA_OID = "1.2.840.113549.1.1.11"
# DER prefix of DigestInfo{sha256, digest} (RFC 8017 §9.2): PKCS#11 CKM_RSA_PKCS signs raw bytes.
_SHA256_DIGEST_INFO_PREFIX = bytes.fromhex("3031300d060960864801650304020105000420")


class SigningError(Exception):
    """A signature could not be produced (wrong password, token or service failure)."""


def _check_digest(digest: bytes, algorithm: str) -> None:
    if algorithm != "sha256":
        raise SigningError(f"Only sha256 digests are supported, not {algorithm!r}")
    if len(digest) != 32:
        raise SigningError(f"A sha256 digest has 32 bytes, got {len(digest)}")


class Signer(abc.ABC):
    """Holds one signing certificate and produces RSA PKCS#1 v1.5 signatures over digests."""

    certificate: x509.Certificate
    chain: list[x509.Certificate]

    @abc.abstractmethod
    def sign_digest(self, digest: bytes, algorithm: str = "sha256") -> bytes:
        """Sign a SHA-256 digest; return the raw RSA signature value."""

    def sign_digests(self, digests: Sequence[bytes], algorithm: str = "sha256") -> list[bytes]:
        """Sign several digests. Remote backends override this to use one authorisation."""
        return [self.sign_digest(digest, algorithm) for digest in digests]

    @property
    def key_size(self) -> int:
        return self.certificate.public_key().key_size

    def close(self) -> None:  # noqa: B027 - optional hook; most backends hold nothing to release
        """Release sessions or connections held by the backend."""


# --- PKCS#12 -------------------------------------------------------------------------------------


class Pkcs12Signer(Signer):
    """A key and certificate from a PKCS#12 (.p12/.pfx) file uploaded by its holder.

    The password is given at signing time and never stored; the decrypted key lives only in this
    object, which callers keep for one batch and then drop.
    """

    def __init__(
        self,
        private_key: rsa.RSAPrivateKey,
        certificate: x509.Certificate,
        chain: Sequence[x509.Certificate] = (),
    ) -> None:
        if not isinstance(private_key, rsa.RSAPrivateKey):
            raise SigningError("Only RSA keys are supported (RSA-2048 or larger)")
        self._key = private_key
        self.certificate = certificate
        self.chain = list(chain)

    @classmethod
    def from_bytes(cls, data: bytes, password: str | bytes | None) -> Pkcs12Signer:
        if isinstance(password, str):
            password = password.encode()
        try:
            key, cert, extra = pkcs12.load_key_and_certificates(data, password)
        except ValueError as exc:
            raise SigningError(
                _("Cannot open the certificate file: wrong password, or the file is damaged.")
            ) from exc
        if key is None or cert is None:
            raise SigningError("The PKCS#12 file must hold a private key and its certificate")
        return cls(key, cert, extra)  # type: ignore[arg-type]

    def sign_digest(self, digest: bytes, algorithm: str = "sha256") -> bytes:
        _check_digest(digest, algorithm)
        return self._key.sign(digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))


_AT_REST_MAGIC = b"SDP12v1"
_AT_REST_INFO = b"sodiem signing pkcs12 at rest v1"


def _at_rest_key(secret_key: str | None) -> bytes:
    if secret_key is None:
        from django.conf import settings

        secret_key = settings.SECRET_KEY
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=_AT_REST_MAGIC, info=_AT_REST_INFO
    ).derive(secret_key.encode())


def encrypt_at_rest(data: bytes, *, secret_key: str | None = None) -> bytes:
    """Encrypt an uploaded PKCS#12 file for storage with AES-256-GCM under a key derived (HKDF)
    from settings.SECRET_KEY. This is a second layer: the file's own password, which we never
    store, still protects the private key inside. Rotating SECRET_KEY makes stored files
    unreadable, so re-encrypt them first."""
    nonce = os.urandom(12)
    return _AT_REST_MAGIC + nonce + AESGCM(_at_rest_key(secret_key)).encrypt(nonce, data, None)


def decrypt_at_rest(blob: bytes, *, secret_key: str | None = None) -> bytes:
    if not blob.startswith(_AT_REST_MAGIC):
        raise SigningError("Not an encrypted PKCS#12 blob")
    nonce = blob[len(_AT_REST_MAGIC) : len(_AT_REST_MAGIC) + 12]
    try:
        return AESGCM(_at_rest_key(secret_key)).decrypt(
            nonce, blob[len(_AT_REST_MAGIC) + 12 :], None
        )
    except Exception as exc:  # cryptography raises InvalidTag
        raise SigningError("Cannot decrypt the stored PKCS#12 file (SECRET_KEY changed?)") from exc


# --- PKCS#11 -------------------------------------------------------------------------------------


class Pkcs11Signer(Signer):
    """A key on a hardware token or HSM, reached through its PKCS#11 library.

    One session is opened (and the PIN presented) when the signer is created and reused until
    :meth:`close`. The certificate is read from the token (object with the key's label) unless
    given.
    """

    def __init__(
        self,
        lib_path: str,
        token_label: str,
        pin: str,
        key_label: str,
        *,
        certificate: x509.Certificate | None = None,
        chain: Sequence[x509.Certificate] = (),
    ) -> None:
        import pkcs11
        from pkcs11 import Attribute, ObjectClass

        try:
            token = pkcs11.lib(lib_path).get_token(token_label=token_label)
            self._session = token.open(user_pin=pin)
        except pkcs11.PKCS11Error as exc:
            raise SigningError(
                _("Cannot open the token %(token)s: wrong PIN, or the token is not connected.")
                % {"token": token_label}
            ) from exc
        try:
            self._key = self._session.get_key(object_class=ObjectClass.PRIVATE_KEY, label=key_label)
            if certificate is None:
                objects = list(
                    self._session.get_objects(
                        {Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.LABEL: key_label}
                    )
                )
                if not objects:
                    raise SigningError(f"No certificate labelled {key_label!r} on the token")
                certificate = x509.load_der_x509_certificate(bytes(objects[0][Attribute.VALUE]))
        except pkcs11.PKCS11Error as exc:
            self._session.close()
            raise SigningError(f"No usable key {key_label!r}: {type(exc).__name__}") from exc
        self._mechanism = pkcs11.Mechanism.RSA_PKCS
        self.certificate = certificate
        self.chain = list(chain)

    def sign_digest(self, digest: bytes, algorithm: str = "sha256") -> bytes:
        _check_digest(digest, algorithm)
        return bytes(self._key.sign(_SHA256_DIGEST_INFO_PREFIX + digest, mechanism=self._mechanism))

    def close(self) -> None:
        self._session.close()


# --- Cloud Signature Consortium API v2 -----------------------------------------------------------


class CscError(SigningError):
    """The remote signing service refused or failed."""


class CscSigner(Signer):
    """Remote signing over the Cloud Signature Consortium API v2.

    ``base_url`` ends with the API root, e.g. ``https://ca.example.vn/csc/v2``. The access token
    (OAuth2 bearer) comes from the service's login flow; ``pin``/``otp`` are the credential's
    authorisation data when its ``authMode`` is explicit. A batch of N digests costs one
    ``credentials/authorize`` (numSignatures=N, with the hashes, for SCAL2 services) and one
    ``signatures/signHash`` call, split in chunks of the credential's ``multisign`` limit.
    """

    def __init__(
        self,
        base_url: str,
        credential_id: str,
        *,
        access_token: str,
        pin: str | None = None,
        otp: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        if not base_url.startswith(("https://", "http://")):
            raise CscError("The CSC service URL must start with https://")
        self.base_url = base_url.rstrip("/")
        self.credential_id = credential_id
        self._token = access_token
        self._pin = pin
        self._otp = otp
        self._timeout = timeout
        info = self._call(
            "credentials/info",
            {"credentialID": credential_id, "certificates": "chain", "certInfo": True},
        )
        try:
            certs = [
                x509.load_der_x509_certificate(base64.b64decode(c))
                for c in info["cert"]["certificates"]
            ]
        except (KeyError, ValueError, TypeError) as exc:
            raise CscError("The CSC service returned no usable certificate chain") from exc
        if not certs:
            raise CscError("The CSC service returned an empty certificate chain")
        self.certificate, self.chain = certs[0], certs[1:]
        self.multisign = max(1, int(info.get("multisign", 1)))

    def list_credentials(self) -> list[str]:
        return list(self._call("credentials/list", {"maxResults": 100}).get("credentialIDs", []))

    def _call(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(  # noqa: S310 - scheme checked in __init__
            f"{self.base_url}/{method}",
            data=json.dumps(body).encode(),
            headers={
                "Authorization": f"Bearer {self._token}",
                "Content-Type": "application/json",
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            detail = ""
            try:
                payload = json.loads(exc.read() or b"{}")
                detail = ": " + " – ".join(
                    str(payload[k]) for k in ("error", "error_description") if k in payload
                )
            except ValueError:
                pass
            if exc.code in (401, 403):
                raise CscError(
                    f"The CSC service refused the access token for {method} "
                    f"(HTTP {exc.code}{detail}); sign in to the signing service again"
                ) from exc
            raise CscError(f"The CSC service failed on {method} (HTTP {exc.code}{detail})") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise CscError(f"The CSC service is unreachable ({method}): {exc}") from exc
        except ValueError as exc:
            raise CscError(f"The CSC service sent an unreadable answer to {method}") from exc

    def sign_digest(self, digest: bytes, algorithm: str = "sha256") -> bytes:
        return self.sign_digests([digest], algorithm)[0]

    def sign_digests(self, digests: Sequence[bytes], algorithm: str = "sha256") -> list[bytes]:
        signatures: list[bytes] = []
        for start in range(0, len(digests), self.multisign):
            signatures += self._sign_chunk(digests[start : start + self.multisign], algorithm)
        return signatures

    def _sign_chunk(self, digests: Sequence[bytes], algorithm: str) -> list[bytes]:
        for digest in digests:
            _check_digest(digest, algorithm)
        hashes_b64 = [base64.b64encode(d).decode() for d in digests]
        auth: dict[str, Any] = {
            "credentialID": self.credential_id,
            "numSignatures": len(digests),
            "hash": hashes_b64,
            "hashAlgo": SHA256_OID,
        }
        if self._pin is not None:
            auth["PIN"] = self._pin
        if self._otp is not None:
            auth["OTP"] = self._otp
        sad = self._call("credentials/authorize", auth).get("SAD")
        if not sad:
            raise CscError("The CSC service returned no signature activation data (SAD)")
        answer = self._call(
            "signatures/signHash",
            {
                "credentialID": self.credential_id,
                "SAD": sad,
                "hash": hashes_b64,
                "hashAlgo": SHA256_OID,
                "signAlgo": SHA256_WITH_RSA_OID,
            },
        )
        values = answer.get("signatures") or []
        if len(values) != len(digests):
            raise CscError(
                f"The CSC service returned {len(values)} signatures for {len(digests)} hashes"
            )
        signatures = [base64.b64decode(v) for v in values]
        public_key = self.certificate.public_key()
        for digest, signature in zip(digests, signatures, strict=True):
            try:  # a wrong answer must not end up inside a legal document
                public_key.verify(  # type: ignore[call-arg, union-attr]
                    signature, digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256())
                )
            except Exception as exc:
                raise CscError("The CSC service returned a signature that does not verify") from exc
        return signatures


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()
