"""Signed checkpoints of each school's ledger: anchors outside the database's reach.

The hash chain (gradebook/ledger.py) shows that no event was changed *unless* whoever changed
it recomputed every later hash and the head, which anyone who can write the database can do.
A checkpoint is a statement "event #seq of school S has hash H, made at T", signed with an
Ed25519 key kept in a file outside the database (settings.LEDGER_CHECKPOINT_KEY_FILE): a chain
rewritten or cut behind a checkpoint no longer matches it, and a new checkpoint for the
rewritten chain cannot be made without that file. Checkpoints of a school are numbered and
chained (each names the SHA-256 of the previous statement), so removing one leaves a gap;
removing the newest ones is seen only against a copy kept elsewhere: every exported package
carries the newest checkpoint (`document`), and `verify_ledger --checkpoint FILE` checks one.

Made on every submission and lock of a book (gradebook/locks.py), daily (`manage.py
checkpoint_ledger`, cron) and for every package export.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import hashlib
import json
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from gradebook.models import CheckpointReason, LedgerCheckpoint, LedgerHead
from schools.models import School

#: The `previous` of a school's first checkpoint.
NO_PREVIOUS = "0" * 64
STATEMENT_TYPE = "sodiem-ledger-checkpoint/1"
#: Where a transcript package carries the school's newest checkpoint.
PACKAGE_MEMBER = "ledger/checkpoint.json"


class CheckpointKeyError(Exception):
    """The checkpoint key file cannot be read or written."""


# --- The key -------------------------------------------------------------------------------------


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_pem(public: Ed25519PublicKey) -> str:
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def _create_key(path: Path) -> None:
    """Write a new private key, readable by its owner only. The whole file appears at once (a
    private file linked into place): another process that creates it first wins and this one
    reads theirs, never a half-written one."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        with contextlib.suppress(FileExistsError):
            os.link(draft, path)
    finally:
        draft.unlink()


def signing_key() -> Ed25519PrivateKey:
    """The server's checkpoint key; created (mode 0600) where the setting points if missing."""
    path = Path(settings.LEDGER_CHECKPOINT_KEY_FILE)
    if not path.exists():
        _create_key(path)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise CheckpointKeyError(f"Cannot read the ledger checkpoint key {path}: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise CheckpointKeyError(f"{path} is not an Ed25519 private key.")
    return key


def trusted_keys() -> dict[str, Ed25519PublicKey]:
    """The public keys checkpoints may be signed with: the current key's and those of earlier
    keys (settings.LEDGER_CHECKPOINT_TRUSTED_KEYS, PEM files), by key id."""
    keys = {}
    for name in getattr(settings, "LEDGER_CHECKPOINT_TRUSTED_KEYS", []):
        public = serialization.load_pem_public_key(Path(name).read_bytes())
        if isinstance(public, Ed25519PublicKey):
            keys[key_id(public)] = public
    current = signing_key().public_key()
    keys[key_id(current)] = current
    return keys


# --- Statements ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    """What a checkpoint asserts, signed as canonical JSON."""

    school_code: str
    school_id: int
    number: int
    seq: int
    hash: str
    at: datetime.datetime
    reason: str
    previous: str
    key_id: str

    def canonical(self) -> bytes:
        payload = {
            "type": STATEMENT_TYPE,
            "school": self.school_code,
            "school_id": self.school_id,
            "number": self.number,
            "seq": self.seq,
            "hash": self.hash,
            "at": self.at.astimezone(datetime.UTC).isoformat(),
            "reason": self.reason,
            "previous": self.previous,
            "key": self.key_id,
        }
        return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()

    def digest(self) -> str:
        return hashlib.sha256(self.canonical()).hexdigest()

    @classmethod
    def of(cls, checkpoint: LedgerCheckpoint, school: School) -> Statement:
        return cls(
            school_code=school.code,
            school_id=school.pk,
            number=checkpoint.number,
            seq=checkpoint.seq,
            hash=checkpoint.hash,
            at=checkpoint.at,
            reason=checkpoint.reason,
            previous=checkpoint.previous,
            key_id=checkpoint.key_id,
        )


def signature_problem(statement: Statement, signature: str) -> str | None:
    """Why the signature does not hold (unknown key, bad signature), or None."""
    public = trusted_keys().get(statement.key_id)
    if public is None:
        return f"signed with key {statement.key_id}, which is not a trusted checkpoint key"
    try:
        public.verify(base64.b64decode(signature, validate=True), statement.canonical())
    except (InvalidSignature, ValueError):
        return "its signature does not verify"
    return None


# --- Making checkpoints --------------------------------------------------------------------------


def make_checkpoint(school: School, *, reason: str) -> LedgerCheckpoint | None:
    """Sign the school's current chain head; the newest checkpoint when the head has not moved
    since it, None when the school has no events yet. Holds the head's row lock while it
    signs, so no event is appended between reading the head and signing it."""
    key = signing_key()
    with transaction.atomic():
        head = LedgerHead.objects.select_for_update().filter(school=school).first()
        if head is None or head.seq == 0:
            return None
        last = LedgerCheckpoint.objects.filter(school=school).order_by("-number").first()
        if last is not None and (last.seq, last.hash) == (head.seq, head.hash):
            return last
        statement = Statement(
            school_code=school.code,
            school_id=school.pk,
            number=(last.number + 1) if last else 1,
            seq=head.seq,
            hash=head.hash,
            at=timezone.now().replace(microsecond=0),
            reason=reason,
            previous=Statement.of(last, school).digest() if last else NO_PREVIOUS,
            key_id=key_id(key.public_key()),
        )
        signature = base64.b64encode(key.sign(statement.canonical())).decode()
        checkpoint = LedgerCheckpoint(
            school=school,
            number=statement.number,
            seq=statement.seq,
            hash=statement.hash,
            at=statement.at,
            reason=reason,
            previous=statement.previous,
            key_id=statement.key_id,
            signature=signature,
        )
        checkpoint.save(force_insert=True)
        return checkpoint


def checkpoint_schools(schools: Iterable[School], *, reason: str = CheckpointReason.DAILY):
    """A checkpoint of each school whose chain moved since its last one; yields (school,
    checkpoint or None)."""
    for school in schools:
        yield school, make_checkpoint(school, reason=reason)


# --- The copy kept elsewhere ---------------------------------------------------------------------


def document(checkpoint: LedgerCheckpoint, school: School) -> bytes:
    """The checkpoint as a JSON document to keep outside the database (every package carries
    the newest one): the signed statement, its signature and the public key."""
    statement = Statement.of(checkpoint, school)
    payload = {
        "statement": json.loads(statement.canonical()),
        "signature": checkpoint.signature,
        "public_key": public_pem(trusted_keys()[checkpoint.key_id]),
    }
    return json.dumps(payload, indent=2, sort_keys=True).encode() + b"\n"


def read_document(data: bytes) -> tuple[Statement, str]:
    """The statement and signature of a checkpoint document; ValueError when malformed. The
    document's public key is informative only: the signature is checked against the trusted
    keys."""
    try:
        payload = json.loads(data)
        body = payload["statement"]
        if body.get("type") != STATEMENT_TYPE:
            raise ValueError(f"not a {STATEMENT_TYPE} statement")
        statement = Statement(
            school_code=str(body["school"]),
            school_id=int(body["school_id"]),
            number=int(body["number"]),
            seq=int(body["seq"]),
            hash=str(body["hash"]),
            at=datetime.datetime.fromisoformat(body["at"]),
            reason=str(body["reason"]),
            previous=str(body["previous"]),
            key_id=str(body["key"]),
        )
        return statement, str(payload["signature"])
    except (KeyError, TypeError, AttributeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not a ledger checkpoint document ({exc})") from exc


def document_problem(data: bytes, *, school_code: str) -> str | None:
    """What is wrong with a checkpoint document as a package carries it, checked with the
    public key it names (a verifier outside the school has no other): "malformed", "school"
    (another school's) or "signature"; None when it holds together. Whether that key is the
    school's server's is for `verify_ledger` to say, against the trusted keys."""
    try:
        statement, signature = read_document(data)
        public = serialization.load_pem_public_key(json.loads(data)["public_key"].encode())
    except (ValueError, KeyError, TypeError):
        return "malformed"
    if not isinstance(public, Ed25519PublicKey) or key_id(public) != statement.key_id:
        return "signature"
    if statement.school_code != school_code:
        return "school"
    try:
        public.verify(base64.b64decode(signature, validate=True), statement.canonical())
    except (InvalidSignature, ValueError):
        return "signature"
    return None
