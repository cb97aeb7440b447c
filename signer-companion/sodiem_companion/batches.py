"""Signing requests: what a page asks to have signed, checked before anyone is asked to confirm."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import re

from sodiem_companion.pkcs11_token import DIGEST_SIZE, TokenCertificate

MAX_DIGESTS = 2000
MAX_BODY_BYTES = 1024 * 1024
REQUEST_TTL = 10 * 60.0
MAX_PENDING_REQUESTS = 10
MAX_TEXT = 300
MAX_CLASS_NAMES = 200
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_ROLE_WORDS = {
    "homeroom": "Giáo viên chủ nhiệm",
    "principal": "Hiệu trưởng",
    "seal": "Con dấu của trường",
}


class BadRequest(Exception):
    """The page sent something the companion will not queue; ``str(error)`` says what."""


@dataclasses.dataclass(frozen=True)
class Summary:
    """What the person is told they are signing. Shown as words on the companion's page."""

    school: str
    role: str
    signer: str
    transcripts: int | None
    documents: int
    class_names: tuple[str, ...]

    @property
    def role_words(self) -> str:
        return _ROLE_WORDS.get(self.role, self.role)

    @property
    def counts_words(self) -> str:
        """ "45 học bạ, 90 tệp"."""
        files = f"{self.documents} tệp"
        return f"{self.transcripts} học bạ, {files}" if self.transcripts is not None else files


@dataclasses.dataclass
class SigningRequest:
    id: str
    origin: str
    certificate: TokenCertificate
    digests: list[bytes]
    summary: Summary
    created: float
    status: str = "pending"  # pending | signed | rejected | failed | expired
    message: str = ""
    signatures: list[bytes] | None = None
    done: int = 0
    working: bool = False
    finished: float | None = None

    def as_json(self) -> dict[str, object]:
        signatures = self.signatures if self.status == "signed" else None
        return {
            "status": self.status,
            "signatures": [base64.b64encode(s).decode() for s in signatures or []]
            if signatures is not None
            else None,
            "message": self.message,
            "progress": {"done": self.done, "total": self.summary.documents},
        }


def _text(summary: dict[str, object], key: str, *, required: bool) -> str:
    value = summary.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise BadRequest(f"summary.{key} phải là chuỗi tối đa {MAX_TEXT} ký tự.")
    if required and not value.strip():
        raise BadRequest(f"Thiếu summary.{key}.")
    return value.strip()


def _count(summary: dict[str, object], key: str) -> int | None:
    value = summary.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_DIGESTS:
        raise BadRequest(f"summary.{key} phải là số nguyên từ 0 đến {MAX_DIGESTS}.")
    return value


def parse_summary(value: object, digest_count: int) -> Summary:
    if not isinstance(value, dict):
        raise BadRequest("Thiếu summary (trường, vai trò, người ký, số học bạ, số tệp, lớp).")
    names = value.get("class_names") or []
    if (
        not isinstance(names, list)
        or len(names) > MAX_CLASS_NAMES
        or not all(isinstance(n, str) and len(n) <= MAX_TEXT for n in names)
    ):
        raise BadRequest("summary.class_names phải là danh sách tên lớp.")
    documents = _count(value, "documents")
    if documents is not None and documents != digest_count:
        raise BadRequest(
            f"summary.documents ({documents}) khác số giá trị băm gửi đến ({digest_count})."
        )
    return Summary(
        school=_text(value, "school", required=True),
        role=_text(value, "role", required=True),
        signer=_text(value, "signer", required=False),
        transcripts=_count(value, "transcripts"),
        documents=digest_count,
        class_names=tuple(n.strip() for n in names if n.strip()),
    )


def parse_digests(value: object) -> list[bytes]:
    if not isinstance(value, list) or not value:
        raise BadRequest("digests phải là danh sách (ít nhất 1) giá trị băm SHA-256 dạng base64.")
    if len(value) > MAX_DIGESTS:
        raise BadRequest(f"Tối đa {MAX_DIGESTS} giá trị băm một lần, không phải {len(value)}.")
    digests = []
    for index, item in enumerate(value):
        if not isinstance(item, str) or len(item) > 64:
            raise BadRequest(f"digests[{index}] không phải base64 của một giá trị băm SHA-256.")
        try:
            digest = base64.b64decode(item, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise BadRequest(f"digests[{index}] không phải base64 hợp lệ.") from exc
        if len(digest) != DIGEST_SIZE:
            raise BadRequest(
                f"digests[{index}] dài {len(digest)} byte; giá trị băm SHA-256 dài 32 byte."
            )
        digests.append(digest)
    return digests


def parse_certificate_sha256(value: object) -> str:
    if not isinstance(value, str) or not _SHA256_HEX.fullmatch(value.lower()):
        raise BadRequest("certificate_sha256 phải là SHA-256 (64 chữ số hex) của chứng thư số.")
    return value.lower()


def parse_algorithm(value: object) -> None:
    if value not in (None, "sha256"):
        raise BadRequest("Chỉ hỗ trợ algorithm = sha256.")
