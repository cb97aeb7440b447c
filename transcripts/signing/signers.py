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


class SecretRefused(SigningError):
    """The typed password or PIN did not open the certificate file or the token. Its message
    says what could not be opened and why, whole: nothing is put in front of it."""


def _check_digest(digest: bytes, algorithm: str) -> None:
    if algorithm != "sha256":
        raise SigningError(f"Only sha256 digests are supported, not {algorithm!r}")
    if len(digest) != 32:
        raise SigningError(f"A sha256 digest has 32 bytes, got {len(digest)}")


def rsa_public_key(certificate: x509.Certificate) -> rsa.RSAPublicKey:
    """The certificate's public key: every signature here is RSA PKCS#1 v1.5."""
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise SigningError("Only RSA keys are supported (RSA-2048 or larger)")
    return key


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
        return rsa_public_key(self.certificate).key_size

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
            raise SecretRefused(
                _("Cannot open the certificate file: wrong password, or the file is damaged.")
            ) from exc
        if key is None or cert is None:
            raise SigningError("The PKCS#12 file must hold a private key and its certificate")
        if not isinstance(key, rsa.RSAPrivateKey):
            raise SigningError("Only RSA keys are supported (RSA-2048 or larger)")
        return cls(key, cert, extra)

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
            raise SecretRefused(
                _("Cannot open the token %(token)s: wrong PIN, or the token is not connected.")
                % {"token": token_label}
            ) from exc
        try:
            key = self._session.get_key(object_class=ObjectClass.PRIVATE_KEY, label=key_label)
            if not isinstance(key, pkcs11.SignMixin):  # its CKA_SIGN is false
                self._session.close()
                raise SigningError(f"The key {key_label!r} on the token cannot sign")
            self._key = key
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


# --- Cloud Signature Consortium API (v2 and v1.0.4) ----------------------------------------------

CSC_API_VERSIONS = ("v1", "v2")


class CscError(SigningError):
    """The remote signing service refused or failed."""


def csc_api_version(base_url: str, api_version: str | None = None) -> str:
    """``api_version`` ("v1" for CSC 1.0.4, "v2"), or the last path segment of ``base_url``
    when it names one, else "v2"."""
    version = api_version or base_url.rstrip("/").rsplit("/", 1)[-1]
    if api_version and version not in CSC_API_VERSIONS:
        raise CscError(f"Unknown CSC API version {api_version!r} (use v1 or v2)")
    return version if version in CSC_API_VERSIONS else "v2"


def _csc_post(
    base_url: str,
    method: str,
    body: dict[str, Any],
    *,
    authorization: str | None,
    timeout: float,
) -> dict[str, Any]:
    """POST the CSC ``method``; its JSON answer, or CscError with the HTTP status and the
    service's ``error`` / ``error_description``."""
    if not base_url.startswith(("https://", "http://")):
        raise CscError("The CSC service URL must start with https://")
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if authorization:
        headers["Authorization"] = authorization
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        f"{base_url.rstrip('/')}/{method}",
        data=json.dumps(body).encode(),
        headers=headers,
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            answer = json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        detail = _csc_error_detail(exc)
        if exc.code in (401, 403) and method == "auth/login":
            raise CscError(
                f"The CSC service refused the user name or password (HTTP {exc.code}{detail})"
            ) from exc
        if exc.code in (401, 403):
            raise CscError(
                f"The CSC service refused the access token for {method} "
                f"(HTTP {exc.code}{detail}); sign in to the signing service again"
            ) from exc
        raise CscError(f"The CSC service failed on {method} (HTTP {exc.code}{detail})") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise CscError(f"The CSC service is unreachable ({method}): {reason}") from exc
    except ValueError as exc:
        raise CscError(f"The CSC service sent an unreadable answer to {method}") from exc
    if not isinstance(answer, dict):
        raise CscError(f"The CSC service sent an unreadable answer to {method}")
    return answer


def _csc_error_detail(exc: urllib.error.HTTPError) -> str:
    try:
        payload = json.loads(exc.read() or b"{}")
    except (ValueError, OSError):
        return ""
    if not isinstance(payload, dict):
        return ""
    parts = [str(payload[k]) for k in ("error", "error_description") if payload.get(k)]
    return ": " + " – ".join(parts) if parts else ""


def csc_login(base_url: str, *, username: str, password: str, timeout: float = 30.0) -> str:
    """An access token from the service's ``auth/login`` (HTTP Basic; CSC v1.0.4 and v2)."""
    basic = base64.b64encode(f"{username}:{password}".encode()).decode()
    answer = _csc_post(
        base_url,
        "auth/login",
        {"rememberMe": False},
        authorization=f"Basic {basic}",
        timeout=timeout,
    )
    token = answer.get("access_token")
    if not isinstance(token, str) or not token:
        raise CscError("The CSC service's auth/login returned no access_token")
    return token


class CscSigner(Signer):
    """Remote signing over the Cloud Signature Consortium API, v2 or v1.0.4.

    ``base_url`` ends with the API root, e.g. ``https://ca.example.vn/csc/v2``; ``api_version``
    ("v1" or "v2") defaults to that URL's last segment. ``access_token`` is the OAuth2 bearer
    (from the service's login flow or :func:`csc_login`), or None for a service without
    authentication; ``pin``/``otp`` are the credential's authorisation data when its auth mode is
    explicit (None: not sent). ``credentials/info`` is read once, without ``certInfo`` (which some
    services do not implement), with the whole chain.

    A batch of N digests costs one ``credentials/authorize`` per chunk of at most ``multisign``
    digests (the CSC limit on ``numSignatures``), with the hashes pinned, so a batch of 90 with
    multisign ≥ 90 is one authorisation; each chunk is then signed with ``signatures/signHash``
    calls of at most ``max_hashes_per_call`` hashes (default: the whole chunk) under the same
    SAD. ``authorisations`` counts the ``credentials/authorize`` calls. Every value is verified
    against the certificate before it is returned.
    """

    def __init__(
        self,
        base_url: str,
        credential_id: str,
        *,
        access_token: str | None = None,
        pin: str | None = None,
        otp: str | None = None,
        api_version: str | None = None,
        max_hashes_per_call: int | None = None,
        timeout: float = 30.0,
    ) -> None:
        if not base_url.startswith(("https://", "http://")):
            raise CscError("The CSC service URL must start with https://")
        self.base_url = base_url.rstrip("/")
        self.api_version = csc_api_version(base_url, api_version)
        self.credential_id = credential_id
        self._token = access_token
        self._pin = pin
        self._otp = otp
        self._timeout = timeout
        if max_hashes_per_call is not None and max_hashes_per_call < 1:
            raise CscError("max_hashes_per_call must be at least 1")
        self.max_hashes_per_call = max_hashes_per_call
        self.authorisations = 0
        self._read_credential()

    def _read_credential(self) -> None:
        info = self._call(
            "credentials/info", {"credentialID": self.credential_id, "certificates": "chain"}
        )
        key_status = (info.get("key") or {}).get("status", "enabled")
        if key_status != "enabled":
            raise CscError(f"The signing key of credential {self.credential_id} is {key_status}")
        cert_status = (info.get("cert") or {}).get("status", "valid")
        if cert_status != "valid":
            raise CscError(f"The certificate of credential {self.credential_id} is {cert_status}")
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
        try:
            self.multisign = max(1, int(info.get("multisign", 1)))
        except (TypeError, ValueError) as exc:
            raise CscError("The CSC service sent an unreadable multisign limit") from exc

    def list_credentials(self) -> list[str]:
        return list(self._call("credentials/list", {"maxResults": 100}).get("credentialIDs", []))

    def _call(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        return _csc_post(
            self.base_url,
            method,
            body,
            authorization=f"Bearer {self._token}" if self._token else None,
            timeout=self._timeout,
        )

    def sign_digest(self, digest: bytes, algorithm: str = "sha256") -> bytes:
        return self.sign_digests([digest], algorithm)[0]

    def sign_digests(self, digests: Sequence[bytes], algorithm: str = "sha256") -> list[bytes]:
        for digest in digests:  # before anything is asked of the signer
            _check_digest(digest, algorithm)
        signatures: list[bytes] = []
        for start in range(0, len(digests), self.multisign):
            signatures += self._sign_chunk(digests[start : start + self.multisign])
        return signatures

    def _sign_chunk(self, digests: Sequence[bytes]) -> list[bytes]:
        hashes_b64 = [base64.b64encode(d).decode() for d in digests]
        sad = self._authorize(hashes_b64)
        step = self.max_hashes_per_call or len(hashes_b64)
        values: list[str] = []
        for start in range(0, len(hashes_b64), step):
            part = hashes_b64[start : start + step]
            answer = self._call("signatures/signHash", self._sign_hash_body(part, sad))
            got = answer.get("signatures")
            if not isinstance(got, list) or len(got) != len(part):
                count = len(got) if isinstance(got, list) else 0
                raise CscError(
                    f"The CSC service returned {count} signatures for {len(part)} hashes"
                )
            values += got
        return self._verified(digests, values)

    def _authorize(self, hashes_b64: list[str]) -> str:
        body: dict[str, Any] = {
            "credentialID": self.credential_id,
            "numSignatures": len(hashes_b64),
        }
        given = [(k, v) for k, v in (("PIN", self._pin), ("OTP", self._otp)) if v is not None]
        if self.api_version == "v2":
            body |= {"hashes": hashes_b64, "hashAlgorithmOID": SHA256_OID}
            if given:
                body["authData"] = [{"id": k, "value": v} for k, v in given]
        else:
            body |= {"hash": hashes_b64, **dict(given)}
        self.authorisations += 1
        sad = self._call("credentials/authorize", body).get("SAD")
        if not isinstance(sad, str) or not sad:
            raise CscError("The CSC service returned no signature activation data (SAD)")
        return sad

    def _sign_hash_body(self, hashes_b64: list[str], sad: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "credentialID": self.credential_id,
            "SAD": sad,
            "signAlgo": SHA256_WITH_RSA_OID,
        }
        if self.api_version == "v2":
            return body | {"hashes": hashes_b64, "hashAlgorithmOID": SHA256_OID}
        return body | {"hash": hashes_b64, "hashAlgo": SHA256_OID}

    def _verified(self, digests: Sequence[bytes], values: list[str]) -> list[bytes]:
        signatures: list[bytes] = []
        for digest, value in zip(digests, values, strict=True):
            try:  # a wrong answer must not end up inside a legal document
                signature = base64.b64decode(value, validate=True)
                rsa_public_key(self.certificate).verify(
                    signature, digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256())
                )
            except Exception as exc:
                raise CscError("The CSC service returned a signature that does not verify") from exc
            signatures.append(signature)
        return signatures


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()
