"""The USB token, through its PKCS#11 library.

Every operation loads the library afresh and finalizes it at the end, under one lock: a token
plugged in after the companion started is found, no session (and no login) outlives the
operation, and the library is never used from two threads at once (it is initialised without
locking callbacks).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import hashlib
import threading
from collections.abc import Callable, Iterator, Sequence

import pkcs11
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils
from pkcs11 import Attribute, CertificateType, Mechanism, ObjectClass, TokenFlag

# DER of DigestInfo{ AlgorithmIdentifier(sha256, NULL), OCTET STRING (32 bytes) } up to the
# digest: CKM_RSA_PKCS signs exactly what it is given, so the caller supplies the DigestInfo.
SHA256_DIGEST_INFO_PREFIX = bytes.fromhex("3031300d060960864801650304020105000420")
DIGEST_SIZE = 32


class TokenError(Exception):
    """Signing cannot go on; ``str(error)`` is the message for the person at the computer."""


class LibraryError(TokenError):
    """The PKCS#11 library cannot be loaded (wrong path, or 32-bit library for 64-bit Python)."""


class TokenUnavailable(TokenError):
    """No token, or not the one holding the certificate: plug it in and try again."""


class WrongPin(TokenError):
    """The PIN was refused; the token counts the attempt."""


class PinLocked(TokenError):
    """The token locked its PIN; only its vendor's tool can unlock it."""


@dataclasses.dataclass(frozen=True)
class TokenCertificate:
    token_label: str
    id: bytes
    label: str
    certificate: x509.Certificate
    der: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.der).hexdigest()

    @property
    def subject(self) -> str:
        return self.certificate.subject.rfc4514_string()

    @property
    def not_after(self) -> datetime.datetime:
        return self.certificate.not_valid_after_utc

    @property
    def not_before(self) -> datetime.datetime:
        return self.certificate.not_valid_before_utc

    def as_json(self) -> dict[str, str]:
        return {
            "id": self.id.hex(),
            "label": self.label,
            "subject": self.subject,
            "not_after": self.not_after.isoformat(),
            "sha256": self.sha256,
            "pem": self.certificate.public_bytes(serialization.Encoding.PEM).decode(),
        }


def _attribute(obj: pkcs11.Object, attribute: Attribute, default: object = None) -> object:
    try:
        return obj[attribute]
    except (pkcs11.PKCS11Error, KeyError, NotImplementedError):
        return default


def verify_signature(certificate: x509.Certificate, digest: bytes, signature: bytes) -> bool:
    public_key = certificate.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        return False
    try:
        public_key.verify(signature, digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


class TokenAccess:
    def __init__(self, lib_path: str, token_label: str | None = None) -> None:
        self.lib_path = lib_path
        self.token_label = token_label
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def _library(self, *, wait: float) -> Iterator[pkcs11.lib]:
        if not self._lock.acquire(timeout=wait):
            raise TokenUnavailable("Token đang bận ký một lô khác; hãy thử lại sau ít phút.")
        try:
            try:
                library = pkcs11.lib(self.lib_path)
            except (pkcs11.PKCS11Error, OSError) as exc:
                raise LibraryError(
                    f"Không nạp được thư viện PKCS#11 của token ({self.lib_path}): {exc}"
                ) from exc
            try:
                yield library
            finally:
                with contextlib.suppress(pkcs11.PKCS11Error):
                    library.finalize()
        finally:
            self._lock.release()

    def _tokens(self, library: pkcs11.lib) -> Iterator[pkcs11.Token]:
        for slot in library.get_slots(token_present=True):
            try:
                token = slot.get_token()
            except pkcs11.PKCS11Error:  # removed between the two calls, or unreadable
                continue
            if not token.flags & TokenFlag.TOKEN_INITIALIZED:
                continue
            if self.token_label is not None and token.label != self.token_label:
                continue
            yield token

    @staticmethod
    def _read_certificates(token: pkcs11.Token) -> list[TokenCertificate]:
        found = []
        with token.open() as session:
            template = {
                Attribute.CLASS: ObjectClass.CERTIFICATE,
                Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
            }
            for obj in session.get_objects(template):
                der = bytes(obj[Attribute.VALUE])
                try:
                    certificate = x509.load_der_x509_certificate(der)
                except ValueError:
                    continue
                found.append(
                    TokenCertificate(
                        token_label=token.label,
                        id=bytes(_attribute(obj, Attribute.ID, b"") or b""),
                        label=str(_attribute(obj, Attribute.LABEL, "") or ""),
                        certificate=certificate,
                        der=der,
                    )
                )
        return found

    def certificates(self, *, wait: float = 5.0) -> list[TokenCertificate]:
        """The certificates readable without a PIN on the present tokens (one per SHA-256)."""
        with self._library(wait=wait) as library:
            seen: dict[str, TokenCertificate] = {}
            for token in self._tokens(library):
                try:
                    for entry in self._read_certificates(token):
                        seen.setdefault(entry.sha256, entry)
                except pkcs11.PKCS11Error:
                    continue  # a token pulled out while being read
            return list(seen.values())

    def sign(
        self,
        *,
        certificate_sha256: str,
        pin: str,
        digests: Sequence[bytes],
        on_login: Callable[[], None] = lambda: None,
        on_progress: Callable[[int], None] = lambda done: None,
    ) -> list[bytes]:
        """Log in once with ``pin`` and sign every SHA-256 digest with the key of the certificate
        whose DER has ``certificate_sha256``. Each value is verified against the certificate
        before it is returned. The PIN is used for C_Login and dropped."""
        with self._library(wait=60.0) as library:
            token, entry = self._find_certificate(library, certificate_sha256)
            if not isinstance(entry.certificate.public_key(), rsa.RSAPublicKey):
                raise TokenError("Chỉ hỗ trợ chứng thư số RSA.")
            session = self._login(token, pin)
            with session:
                key = self._find_private_key(session, entry)
                on_login()
                always_authenticate = bool(_attribute(key, Attribute.ALWAYS_AUTHENTICATE, False))
                signatures = []
                for digest in digests:
                    if always_authenticate:
                        session.reaffirm_credentials(pin)
                    signature = self._sign_one(key, digest)
                    if not verify_signature(entry.certificate, digest, signature):
                        raise TokenError(
                            "Token trả về chữ ký không khớp với chứng thư số; không gửi chữ ký nào."
                        )
                    signatures.append(signature)
                    on_progress(len(signatures))
                return signatures

    def _find_certificate(
        self, library: pkcs11.lib, certificate_sha256: str
    ) -> tuple[pkcs11.Token, TokenCertificate]:
        for token in self._tokens(library):
            try:
                entries = self._read_certificates(token)
            except pkcs11.PKCS11Error:
                continue
            for entry in entries:
                if entry.sha256 == certificate_sha256:
                    return token, entry
        raise TokenUnavailable(
            "Không thấy token chứa chứng thư số này; hãy cắm đúng token rồi bấm Ký lại."
        )

    @staticmethod
    def _login(token: pkcs11.Token, pin: str) -> pkcs11.Session:
        if token.flags & TokenFlag.USER_PIN_LOCKED:
            raise PinLocked("Mã PIN của token đã bị khóa; hãy mở khóa bằng phần mềm của token.")
        try:
            return token.open(user_pin=pin)
        except pkcs11.PinLocked as exc:
            raise PinLocked(
                "Mã PIN của token đã bị khóa; hãy mở khóa bằng phần mềm của token."
            ) from exc
        except (pkcs11.PinIncorrect, pkcs11.PinInvalid, pkcs11.PinLenRange) as exc:
            raise WrongPin(_wrong_pin_message(token)) from exc
        except (pkcs11.TokenNotPresent, pkcs11.DeviceRemoved, pkcs11.TokenNotRecognised) as exc:
            raise TokenUnavailable("Token vừa bị rút ra; hãy cắm lại rồi bấm Ký lại.") from exc

    @staticmethod
    def _find_private_key(session: pkcs11.Session, entry: TokenCertificate) -> pkcs11.Object:
        """The private key with the certificate's CKA_ID, or else the one with its modulus."""
        modulus = entry.certificate.public_key().public_numbers().n  # type: ignore[union-attr]

        def same_modulus(key: pkcs11.Object) -> bool | None:
            value = _attribute(key, Attribute.MODULUS)
            return None if value is None else int.from_bytes(bytes(value), "big") == modulus

        keys = list(session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY}))
        if entry.id:
            for key in keys:
                if _attribute(key, Attribute.ID) == entry.id and same_modulus(key) is not False:
                    return key
        for key in keys:
            if same_modulus(key):
                return key
        raise TokenError("Không tìm thấy khóa bí mật của chứng thư số này trên token.")

    @staticmethod
    def _sign_one(key: pkcs11.Object, digest: bytes) -> bytes:
        if len(digest) != DIGEST_SIZE:
            raise TokenError(f"Giá trị băm SHA-256 phải dài 32 byte, không phải {len(digest)}.")
        try:
            return bytes(key.sign(SHA256_DIGEST_INFO_PREFIX + digest, mechanism=Mechanism.RSA_PKCS))
        except (pkcs11.TokenNotPresent, pkcs11.DeviceRemoved, pkcs11.SessionClosed) as exc:
            raise TokenError("Token bị rút ra giữa chừng; lô này chưa được ký.") from exc
        except pkcs11.PKCS11Error as exc:
            raise TokenError(f"Token từ chối ký ({type(exc).__name__}).") from exc


def _wrong_pin_message(token: pkcs11.Token) -> str:
    message = "Sai mã PIN"
    try:
        flags = token.slot.get_token().flags  # fresh flags: the token has counted the attempt
    except pkcs11.PKCS11Error:
        return message
    if flags & TokenFlag.USER_PIN_FINAL_TRY:
        return f"{message} — chỉ còn 1 lần thử trước khi token bị khóa."
    if flags & TokenFlag.USER_PIN_COUNT_LOW:
        return f"{message} — còn ít lần thử trước khi token bị khóa."
    return message
