"""The tamper-evident ledger: every change to a cell appends one event, SHA-256-chained to the
previous event of the same school. `verify_chain` recomputes it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import OuterRef, Subquery

from gradebook import hot
from gradebook.models import LedgerHead, Mark, MarkEvent
from schools.models import School

GENESIS = "0" * 64


def event_digest(event: MarkEvent) -> str:
    """SHA-256 over the canonical JSON of everything the event asserts, and the previous hash."""
    payload = {
        "school": event.school_id,
        "seq": event.seq,
        "mark": event.mark_id,
        "old": event.old_value,
        "new": event.new_value,
        "version": event.version,
        "actor": event.actor_id,
        "at": event.at.isoformat(),
        "reason": event.reason,
        "source": event.source,
        "ip": event.client_ip,
        "prev": event.prev_hash,
    }
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def append_event(event: MarkEvent) -> MarkEvent:
    """Number, chain and store an event. Call inside the transaction that changes the mark."""
    # Hand-written statements (gradebook/hot.py): every mark save appends.
    head = hot.locked_ledger_head(school_id=event.school_id, genesis=GENESIS)
    event.seq = head.seq + 1
    event.prev_hash = head.hash
    event.hash = event_digest(event)
    hot.append_ledger_event(event, head=head)
    return event


@dataclass(frozen=True)
class Problem:
    """Something verification found: a broken link or a value changed behind the ledger."""

    kind: str  # "broken_link" | "bad_hash" | "gap" | "head" | "untracked_value"
    seq: int | None
    detail: str


def verify_chain(school: School, *, batch: int = 5000) -> Iterator[Problem]:
    """Recompute the school's chain in order; yield the first broken link (and stop the chain
    check there), then every mark whose value differs from its last event."""
    previous_hash, expected_seq = GENESIS, 1
    events = MarkEvent.objects.filter(school=school).order_by("seq")
    broken = False
    for event in events.iterator(chunk_size=batch):
        if event.seq != expected_seq:
            yield Problem("gap", event.seq, f"expected event #{expected_seq}, found #{event.seq}")
            broken = True
            break
        if event.prev_hash != previous_hash:
            yield Problem("broken_link", event.seq, "prev_hash does not match the previous event")
            broken = True
            break
        if event_digest(event) != event.hash:
            yield Problem("bad_hash", event.seq, "the event's content does not match its hash")
            broken = True
            break
        previous_hash, expected_seq = event.hash, expected_seq + 1
    if not broken:
        head = LedgerHead.objects.filter(school=school).first()
        last_seq = expected_seq - 1
        if head is not None and (head.seq != last_seq or head.hash != previous_hash):
            yield Problem(
                "head", head.seq, f"chain head says #{head.seq}, chain ends at #{last_seq}"
            )
    yield from untracked_values(school)


def untracked_values(school: School) -> Iterator[Problem]:
    """Marks whose current value or version is not what their last event says."""
    last = MarkEvent.objects.filter(mark=OuterRef("pk")).order_by("-seq")
    marks = Mark.objects.filter(school=school).annotate(
        logged_value=Subquery(last.values("new_value")[:1]),
        logged_version=Subquery(last.values("version")[:1]),
    )
    for mark in marks.iterator(chunk_size=5000):
        logged = mark.logged_value if mark.logged_value is not None else ""
        logged_version = mark.logged_version or 0
        if mark.value != logged or mark.version != logged_version:
            yield Problem(
                "untracked_value",
                None,
                f"mark {mark.pk} (student {mark.student_id}, {mark.kind}{mark.slot}, term "
                f"{mark.term}) holds {mark.value!r} v{mark.version}, ledger says {logged!r} "
                f"v{logged_version}",
            )
