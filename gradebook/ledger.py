"""The tamper-evident ledger: every change to a cell appends one event, SHA-256-chained to the
previous event of the same school, and naming the cell it changed (`cell_digest`).
`verify_chain` recomputes the chain, checks it against the school's signed checkpoints
(gradebook/checkpoints.py) and accounts for every mark and every event."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db.models import Count, OuterRef, Subquery

from gradebook import hot
from gradebook.checkpoints import NO_PREVIOUS, Statement, signature_problem
from gradebook.models import LedgerCheckpoint, LedgerHead, Mark, MarkEvent
from schools.models import School

GENESIS = "0" * 64


def cell_digest(mark: Mark) -> str:
    """SHA-256 over what a cell is: its school, year, student, subject, term, kind and slot."""
    return _cell_digest(
        mark.school_id, mark.year_id, mark.student_id, mark.subject_id, mark.term, mark.kind,
        mark.slot,
    )  # fmt: skip


def _cell_digest(*identity: object) -> str:
    canonical = json.dumps(list(identity), ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# --- The database's guard ------------------------------------------------------------------------

_maintenance = threading.local()


@contextmanager
def ledger_maintenance() -> Iterator[None]:
    """Let this thread's SQLite connections delete ledger rows (the test database's flush
    only; gradebook/migrations/0004). PostgreSQL refuses row deletes whatever this says."""
    _maintenance.on = getattr(_maintenance, "on", 0) + 1
    try:
        yield
    finally:
        _maintenance.on -= 1


def _maintenance_open() -> int:
    return 1 if getattr(_maintenance, "on", 0) else 0


def register_sqlite_guard(sender, connection, **kwargs) -> None:
    """`connection_created` receiver: give each SQLite connection the guard's function."""
    if connection.vendor == "sqlite":
        connection.connection.create_function("sodiem_ledger_maintenance", 0, _maintenance_open)


# --- Appending -----------------------------------------------------------------------------------


def event_digest(event: MarkEvent) -> str:
    """SHA-256 over the canonical JSON of everything the event asserts, and the previous hash.
    An event with a `cell` (every event written since the cell was recorded) covers it."""
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
    if event.cell:
        payload["cell"] = event.cell
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def append_event(event: MarkEvent) -> MarkEvent:
    """Number, chain and store an event. Call inside the transaction that changes the mark."""
    # Hand-written statements (gradebook/hot.py): every mark save appends.
    head = hot.locked_ledger_head(school_id=event.school_id, genesis=GENESIS)
    event.cell = cell_digest(event.mark)
    event.seq = head.seq + 1
    event.prev_hash = head.hash
    event.hash = event_digest(event)
    hot.append_ledger_event(event, head=head)
    return event


@dataclass(frozen=True)
class Problem:
    """Something verification found."""

    #: "gap" | "broken_link" | "bad_hash" | "head": the chain itself;
    #: "rewritten" | "truncated": the chain differs from a signed checkpoint;
    #: "checkpoint_signature" | "checkpoint_gap" | "checkpoint_missing": the checkpoints;
    #: "moved_mark" | "missing_mark" | "untracked_value" | "unaccounted": marks and events
    kind: str
    seq: int | None
    detail: str


@dataclass
class LedgerReport:
    """What `verify` found about one school's ledger."""

    problems: list[Problem] = field(default_factory=list)
    #: the chain's last event number
    events: int = 0
    #: valid checkpoints (database and external), oldest first
    anchors: list[Statement] = field(default_factory=list)
    #: events written before cells were recorded: their hash does not cover the cell
    legacy_events: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def anchored_up_to(self) -> Statement | None:
        """The checkpoint that vouches for the most of the chain."""
        return max(self.anchors, key=lambda a: (a.seq, a.at), default=None)


def verify_chain(school: School, *, batch: int = 5000) -> Iterator[Problem]:
    """The problems `verify` finds in the school's ledger."""
    yield from verify(school, batch=batch).problems


def verify(
    school: School,
    *,
    batch: int = 5000,
    external: Sequence[tuple[Statement, str]] = (),
) -> LedgerReport:
    """Check the school's ledger: its checkpoints (and `external` ones: (statement, signature)
    pairs kept outside the database, e.g. from exported packages), the chain against them, and
    every mark against its events."""
    report = LedgerReport()
    anchors = _checkpoints(school, external, report)
    _chain(school, anchors, report, batch=batch)
    _cells(school, report, batch=batch)
    report.problems.extend(untracked_values(school))
    report.legacy_events = MarkEvent.objects.filter(school=school, cell="").count()
    return report


def _checkpoints(
    school: School, external: Sequence[tuple[Statement, str]], report: LedgerReport
) -> dict[int, list[Statement]]:
    """Check the school's checkpoints (signatures, numbering, links) and the external copies
    against them; the valid ones by the event number they vouch for."""
    stored: dict[int, Statement] = {}
    previous = NO_PREVIOUS
    for number, checkpoint in enumerate(
        LedgerCheckpoint.objects.filter(school=school).order_by("number"), 1
    ):
        statement = Statement.of(checkpoint, school)
        if checkpoint.number != number or checkpoint.previous != previous:
            report.problems.append(Problem(
                "checkpoint_gap", checkpoint.seq,
                f"checkpoint {checkpoint.number} does not follow checkpoint {number - 1}: "
                "a checkpoint was removed or inserted",
            ))  # fmt: skip
        previous = statement.digest()
        if why := signature_problem(statement, checkpoint.signature):
            report.problems.append(Problem(
                "checkpoint_signature", checkpoint.seq, f"checkpoint {checkpoint.number}: {why}"
            ))  # fmt: skip
            continue
        stored[checkpoint.number] = statement
        report.anchors.append(statement)
    for statement, signature in external:
        if (statement.school_code, statement.school_id) != (school.code, school.pk):
            continue
        if why := signature_problem(statement, signature):
            report.problems.append(Problem(
                "checkpoint_signature", statement.seq,
                f"the checkpoint {statement.number} kept outside: {why}",
            ))  # fmt: skip
            continue
        if stored.get(statement.number) != statement:
            report.problems.append(Problem(
                "checkpoint_missing", statement.seq,
                f"checkpoint {statement.number} of {statement.at:%Y-%m-%d %H:%M} UTC, kept "
                "outside, is not in the database as signed: checkpoints were removed or changed",
            ))  # fmt: skip
        report.anchors.append(statement)
    anchors: dict[int, list[Statement]] = {}
    for statement in report.anchors:
        anchors.setdefault(statement.seq, []).append(statement)
    return anchors


def _chain(
    school: School, anchors: dict[int, list[Statement]], report: LedgerReport, *, batch: int
) -> None:
    """Recompute the chain in order: the first broken link (the links after it are not
    checked), and every checkpoint the stored chain no longer matches."""
    previous_hash, expected_seq = GENESIS, 1
    broken = False
    events = MarkEvent.objects.filter(school=school).order_by("seq")
    for event in events.iterator(chunk_size=batch):
        for anchor in anchors.get(event.seq, ()):
            if anchor.hash != event.hash:
                report.problems.append(Problem(
                    "rewritten", event.seq,
                    f"event #{event.seq} is not the one checkpoint {anchor.number} of "
                    f"{anchor.at:%Y-%m-%d %H:%M} UTC vouches for: the chain was rewritten",
                ))  # fmt: skip
        if not broken:
            link = _link_problem(event, expected_seq, previous_hash)
            if link is not None:
                report.problems.append(link)
                broken = True
        previous_hash, expected_seq = event.hash, event.seq + 1
    last_seq = expected_seq - 1
    report.events = last_seq
    for seq in sorted(seq for seq in anchors if seq > last_seq):
        for anchor in anchors[seq]:
            report.problems.append(Problem(
                "truncated", seq,
                f"checkpoint {anchor.number} of {anchor.at:%Y-%m-%d %H:%M} UTC vouches for "
                f"event #{seq}, but the chain ends at #{last_seq}: events were removed",
            ))  # fmt: skip
    if not broken:
        head = LedgerHead.objects.filter(school=school).first()
        if head is not None and (head.seq != last_seq or head.hash != previous_hash):
            report.problems.append(
                Problem("head", head.seq, f"chain head says #{head.seq}, chain ends at #{last_seq}")
            )


def _link_problem(event: MarkEvent, expected_seq: int, previous_hash: str) -> Problem | None:
    if event.seq != expected_seq:
        return Problem("gap", event.seq, f"expected event #{expected_seq}, found #{event.seq}")
    if event.prev_hash != previous_hash:
        return Problem("broken_link", event.seq, "prev_hash does not match the previous event")
    if event_digest(event) != event.hash:
        return Problem("bad_hash", event.seq, "the event's content does not match its hash")
    return None


_IDENTITY = tuple(
    f"mark__{name}"
    for name in ("school_id", "year_id", "student_id", "subject_id", "term", "kind", "slot")
)


def _cells(school: School, report: LedgerReport, *, batch: int) -> None:
    """Every event names an existing mark, and the cell it recorded is still that mark's."""
    orphans = MarkEvent.objects.filter(school=school).exclude(mark_id__in=Mark.objects.values("pk"))
    for seq, mark_id in orphans.values_list("seq", "mark_id").order_by("seq"):
        report.problems.append(
            Problem("missing_mark", seq, f"event #{seq} changed mark {mark_id}, which is gone")
        )
    moved: set[int] = set()
    rows = (
        MarkEvent.objects.filter(school=school)
        .exclude(cell="")
        .order_by("seq")
        .values_list("seq", "cell", "mark_id", *_IDENTITY)
    )
    for seq, cell, mark_id, *identity in rows.iterator(chunk_size=batch):
        if mark_id not in moved and _cell_digest(*identity) != cell:
            moved.add(mark_id)
            school_id, year_id, student_id, subject_id, term, kind, slot = identity
            report.problems.append(Problem(
                "moved_mark", seq,
                f"mark {mark_id} is now student {student_id}, subject {subject_id}, term {term}, "
                f"{kind}{slot} (school {school_id}, year {year_id}), not the cell event #{seq} "
                "recorded: it was moved behind the ledger",
            ))  # fmt: skip


def untracked_values(school: School) -> Iterator[Problem]:
    """Marks whose current value or version is not what their last event says, or whose
    events do not account for every version (one event per version)."""
    last = MarkEvent.objects.filter(mark=OuterRef("pk")).order_by("-seq")
    counts = (
        MarkEvent.objects.filter(mark=OuterRef("pk"))
        .order_by()
        .values("mark")
        .annotate(n=Count("pk"))
        .values("n")
    )
    marks = Mark.objects.filter(school=school).annotate(
        logged_value=Subquery(last.values("new_value")[:1]),
        logged_version=Subquery(last.values("version")[:1]),
        logged_events=Subquery(counts[:1]),
    )
    for mark in marks.iterator(chunk_size=5000):
        logged = mark.logged_value if mark.logged_value is not None else ""
        logged_version = mark.logged_version or 0
        where = (
            f"mark {mark.pk} (student {mark.student_id}, {mark.kind}{mark.slot}, term {mark.term})"
        )
        if mark.value != logged or mark.version != logged_version:
            yield Problem(
                "untracked_value",
                None,
                f"{where} holds {mark.value!r} v{mark.version}, ledger says {logged!r} "
                f"v{logged_version}",
            )
        elif (mark.logged_events or 0) != mark.version:
            yield Problem(
                "unaccounted",
                None,
                f"{where} is at version {mark.version} but the ledger has "
                f"{mark.logged_events or 0} event(s) for it",
            )
