"""Where a batch's signature values come from, whatever holds the key.

A batch of N documents needs N signature values from one signer, asked for **once**: one
password, one PIN, one phone confirmation. Every signing method is a :class:`SignatureSource`.
It knows the signer's certificate before anything is signed (the documents' signed attributes
name it), and :meth:`SignatureSource.request` is called once per batch with every digest:

- a key the server can use (a PKCS#12 file opened with its password, a PKCS#11 token or HSM on
  the server, a CSC service given the PIN) answers at once: :class:`Signed`;
- a remote service that asks the signer to confirm on their phone, or the USB token on the
  signer's own computer (through the signing companion), answers later: :class:`Waiting`, with a
  JSON state that the batch stores; the batch then polls (:meth:`SignatureSource.poll`) or is
  sent the values by the signer's browser, until :class:`Signed` or :class:`Refused`.

Values are checked against the certificate by the caller (the batch), whatever the source: a
value that does not verify never reaches a document.
"""

from __future__ import annotations

import abc
import dataclasses
import datetime
from collections.abc import Sequence
from typing import Any

from cryptography import x509

from transcripts.signing.signers import Signer


@dataclasses.dataclass(frozen=True)
class BatchSummary:
    """What the signer is shown before they confirm: what they sign, for whom."""

    school: str
    role: str  #: the role's label, e.g. "Hiệu trưởng"
    signer: str  #: the signer's name (the school's name for the seal)
    transcripts: int
    documents: int  #: files signed: a PDF and an XML per transcript
    class_names: tuple[str, ...] = ()

    def describe(self) -> str:
        """One line for a phone notification or a log (Vietnamese: it is shown to the signer
        by services that know no other language)."""
        classes = ", ".join(self.class_names)
        where = f" lớp {classes}" if classes else ""
        return (
            f"{self.school}: ký {self.transcripts} học bạ{where} "
            f"({self.documents} tệp) với vai trò {self.role}"
        )

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self) | {"class_names": list(self.class_names)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BatchSummary:
        return cls(**{**data, "class_names": tuple(data.get("class_names", ()))})


@dataclasses.dataclass(frozen=True)
class Signed:
    """Every value, in the order of the digests asked for."""

    values: list[bytes]


@dataclasses.dataclass(frozen=True)
class Waiting:
    """The signer has been asked; ``state`` (JSON-serialisable) lets any worker poll later."""

    state: dict[str, Any]
    expires_at: datetime.datetime
    message: str = ""


@dataclasses.dataclass(frozen=True)
class Refused:
    """Nothing will be signed: ``reason`` is one of :data:`REFUSAL_REASONS`; ``message`` is for
    the user (translated where the source can)."""

    reason: str
    message: str = ""


#: Why a source ends without values.
REJECTED, EXPIRED, CANCELLED, FAILED = "rejected", "expired", "cancelled", "failed"
REFUSAL_REASONS = (REJECTED, EXPIRED, CANCELLED, FAILED)

Outcome = Signed | Waiting | Refused


class SignatureSource(abc.ABC):
    """One signer's way of producing RSA PKCS#1 v1.5 values over SHA-256 digests for a batch."""

    certificate: x509.Certificate
    chain: list[x509.Certificate]
    #: How often the signer was asked to authorise (a password, a PIN, a phone confirmation):
    #: one per batch is the goal; the bench and the tests count it.
    authorisations: int = 0
    #: Seconds between two polls of a waiting request.
    poll_interval: float = 2.0

    @abc.abstractmethod
    def request(
        self, digests: Sequence[bytes], *, summary: BatchSummary, request_key: str
    ) -> Outcome:
        """Ask for every value of a batch at once. ``request_key`` (stored by the batch before
        the call) identifies the request, so a repeated call after a crash asks nothing twice
        where the service supports it."""

    def poll(self, state: dict[str, Any]) -> Outcome:
        """The current outcome of a waiting request (sources that never wait are not polled)."""
        raise NotImplementedError(f"{type(self).__name__} does not wait")

    def cancel(self, state: dict[str, Any]) -> None:  # noqa: B027 - nothing to cancel by default
        """Withdraw a waiting request (best effort)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release sessions or connections held by the source."""


class SignerSource(SignatureSource):
    """A :class:`~transcripts.signing.signers.Signer` the server can use directly: a PKCS#12
    file opened with its password, a PKCS#11 token or HSM on the server, or a CSC service given
    the credential's PIN. The whole batch is signed at once; the password or PIN given for the
    job is its single authorisation (a CSC signer counts its own ``credentials/authorize``)."""

    def __init__(self, signer: Signer) -> None:
        self.signer = signer
        self.certificate = signer.certificate
        self.chain = list(signer.chain)

    @property
    def authorisations(self) -> int:  # type: ignore[override]  # read-only here: the signer counts
        return getattr(self.signer, "authorisations", self._used)

    _used = 0

    def request(
        self, digests: Sequence[bytes], *, summary: BatchSummary, request_key: str
    ) -> Outcome:
        self._used += 1
        return Signed(self.signer.sign_digests(list(digests)))

    def close(self) -> None:
        self.signer.close()


@dataclasses.dataclass(frozen=True)
class Certificates:
    """A signer's certificate and its chain, e.g. as a batch stored them."""

    certificate: x509.Certificate
    chain: list[x509.Certificate]

    @classmethod
    def from_pem(cls, pem: str) -> Certificates:
        certificates = x509.load_pem_x509_certificates(pem.encode())
        return cls(certificates[0], certificates[1:])

    def pem(self) -> str:
        return certificates_pem([self.certificate, *self.chain])


def certificates_pem(certificates: Sequence[x509.Certificate]) -> str:
    from cryptography.hazmat.primitives import serialization

    return "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in certificates)


class CompanionSource(SignatureSource):
    """A USB token on the signer's own computer, reached through the signing companion
    (``signer-companion/``) by the signer's browser: the server only waits. The job page sends
    the batch's digests to the companion, which asks the signer for the token's PIN and signs;
    the page posts the values back (``transcripts.views.jobs``). Polling only notices expiry."""

    poll_interval = 15.0

    def __init__(self, certificates: Certificates, *, timeout_seconds: int) -> None:
        self.certificate = certificates.certificate
        self.chain = certificates.chain
        self._timeout = timeout_seconds

    def request(
        self, digests: Sequence[bytes], *, summary: BatchSummary, request_key: str
    ) -> Outcome:
        self.authorisations += 1
        expires_at = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=self._timeout)
        return Waiting(state={"via": "companion"}, expires_at=expires_at)

    def poll(self, state: dict[str, Any]) -> Outcome:
        return Waiting(state=state, expires_at=datetime.datetime.max.replace(tzinfo=datetime.UTC))
