"""Pairing a site's page with this companion, and the tokens that result.

The page shows a random code and sends it here; the person at this computer types the code the
page shows into the companion's own page. Only then does the page get a token, which is bound
to the page's origin. Tokens are stored as SHA-256 hashes in ``pairings.json`` so that a pairing
survives a restart and the file is worthless to a reader.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import hmac
import json
import os
import re
import secrets
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

PAIRING_TTL = 5 * 60.0
MAX_CODE_ATTEMPTS = 5
MAX_PENDING_PAIRINGS = 5
MAX_TOKENS_PER_ORIGIN = 20
CODE_PATTERN = re.compile(r"[A-Za-z0-9]{6,10}")
STATE_FILE = "pairings.json"


class PairingError(Exception):
    """A request to pair that is refused; ``str(error)`` says why."""


def normalize_code(typed: str) -> str:
    """What a person types ("abcd-efgh ", "ABCD EFGH") compared with what the page sent."""
    return re.sub(r"[\s\-–.]", "", typed).upper()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclasses.dataclass
class Pairing:
    id: str
    origin: str
    code: str
    created: float
    status: str = "pending"  # pending | paired | refused | expired
    attempts: int = 0
    message: str = ""
    token: str | None = None  # plain, only until the page has fetched it once
    finished: float | None = None


class TokenFile:
    """Hashed tokens per origin, in a small JSON file only this user can read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._entries: list[dict[str, str]] = self._load()

    def _load(self) -> list[dict[str, str]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError):
            return []  # a damaged file: every page pairs again
        entries = data.get("tokens", []) if isinstance(data, dict) else []
        return [
            e
            for e in entries
            if isinstance(e, dict) and isinstance(e.get("sha256"), str) and e.get("origin")
        ]

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = json.dumps({"version": 1, "tokens": self._entries}, indent=2)
        fd, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".pairings-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(payload)
            os.chmod(temporary, 0o600)
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def add(self, origin: str, token: str) -> None:
        created = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        self._entries.append({"origin": origin, "sha256": _hash(token), "created": created})
        mine = [e for e in self._entries if e["origin"] == origin]
        for old in mine[:-MAX_TOKENS_PER_ORIGIN]:
            self._entries.remove(old)
        self._save()

    def valid(self, origin: str, token: str) -> bool:
        digest = _hash(token)
        return any(
            hmac.compare_digest(e["sha256"], digest) for e in self._entries if e["origin"] == origin
        )

    def origins(self) -> list[str]:
        return sorted({e["origin"] for e in self._entries})

    def forget(self, origin: str) -> None:
        self._entries = [e for e in self._entries if e["origin"] != origin]
        self._save()


class PairingBook:
    def __init__(self, state_dir: Path, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._pairings: dict[str, Pairing] = {}
        self._tokens = TokenFile(state_dir / STATE_FILE)

    def _expire(self) -> None:
        now = self._clock()
        for pairing_id, pairing in list(self._pairings.items()):
            if pairing.status == "pending" and now - pairing.created > PAIRING_TTL:
                pairing.status, pairing.finished = "expired", now
            if pairing.finished is not None and now - pairing.finished > PAIRING_TTL:
                del self._pairings[pairing_id]

    def start(self, origin: str, code: object) -> Pairing:
        if not isinstance(code, str) or not CODE_PATTERN.fullmatch(code):
            raise PairingError("Mã ghép nối phải có 6 đến 10 chữ cái hoặc chữ số.")
        with self._lock:
            self._expire()
            pending = [p for p in self._pairings.values() if p.status == "pending"]
            if len(pending) >= MAX_PENDING_PAIRINGS:
                raise PairingError("Đã có quá nhiều yêu cầu ghép nối đang chờ xác nhận.")
            pairing = Pairing(
                id=secrets.token_urlsafe(16),
                origin=origin,
                code=code.upper(),
                created=self._clock(),
            )
            self._pairings[pairing.id] = pairing
            return pairing

    def poll(self, origin: str, pairing_id: str) -> dict[str, object] | None:
        """The page's view of its pairing; the token is in the first answer after pairing."""
        with self._lock:
            self._expire()
            pairing = self._pairings.get(pairing_id)
            if pairing is None or pairing.origin != origin:
                return None
            token, pairing.token = pairing.token, None
            return {"status": pairing.status, "token": token}

    def confirm(self, pairing_id: str, typed: str) -> Pairing | None:
        """The person typed ``typed`` for this pairing. Five wrong codes refuse it."""
        with self._lock:
            self._expire()
            pairing = self._pairings.get(pairing_id)
            if pairing is None or pairing.status != "pending":
                return pairing
            if hmac.compare_digest(normalize_code(typed).encode(), pairing.code.encode()):
                pairing.token = secrets.token_urlsafe(32)
                self._tokens.add(pairing.origin, pairing.token)
                pairing.status, pairing.finished, pairing.message = "paired", self._clock(), ""
                return pairing
            pairing.attempts += 1
            left = MAX_CODE_ATTEMPTS - pairing.attempts
            if left <= 0:
                pairing.status, pairing.finished = "refused", self._clock()
                pairing.message = "Sai mã 5 lần: đã từ chối ghép nối."
            else:
                pairing.message = f"Mã không đúng (còn {left} lần thử)."
            return pairing

    def refuse(self, pairing_id: str) -> Pairing | None:
        with self._lock:
            pairing = self._pairings.get(pairing_id)
            if pairing is not None and pairing.status == "pending":
                pairing.status, pairing.finished = "refused", self._clock()
            return pairing

    def pending(self) -> list[Pairing]:
        with self._lock:
            self._expire()
            return sorted(
                (p for p in self._pairings.values() if p.status == "pending"),
                key=lambda p: p.created,
            )

    def is_paired(self, origin: str, token: str | None) -> bool:
        if not token:
            return False
        with self._lock:
            return self._tokens.valid(origin, token)

    def paired_origins(self) -> list[str]:
        with self._lock:
            return self._tokens.origins()

    def forget(self, origin: str) -> None:
        with self._lock:
            self._tokens.forget(origin)
