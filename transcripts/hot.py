"""The transcripts' hand-written statement: every mark save asks whether the student's
transcript of the year has gone beyond its draft.

Compiling a queryset costs more CPU than running its SQL (bench/RESULTS.md, 2026-12-05), so
this one is written once, as text, with the toolkit of config/sql.py. Beside it stands
`<name>_orm`, the same through the ORM: it says what the SQL means, and
tests/gradebook/test_hot_sql.py holds the pair equal on SQLite and PostgreSQL. A new fast path
comes here only with a measurement that shows the need (docs/development.md).
"""

from __future__ import annotations

from config import sql
from transcripts.models import State, Transcript

_STATE_BEYOND_DRAFT = sql.statement(
    """
    SELECT t."state" FROM {t.table} t
    WHERE t."student_id" = %s AND t."year_id" = %s AND t."state" <> %s
    ORDER BY t."id" LIMIT 1
    """,
    t=Transcript,
)


def transcript_state_beyond_draft(*, student_id: int, year_id: int) -> str | None:
    """The state of the student's transcript of the year if it is no longer a draft, else
    None (no transcript, or a draft)."""
    found = sql.fetch_one(_STATE_BEYOND_DRAFT, [student_id, year_id, State.DRAFT.value])
    return None if found is None else found[0]


def transcript_state_beyond_draft_orm(*, student_id: int, year_id: int) -> str | None:
    transcripts = Transcript.objects.filter(student_id=student_id, year_id=year_id)
    beyond = transcripts.exclude(state=State.DRAFT).order_by("id")
    return beyond.values_list("state", flat=True).first()
