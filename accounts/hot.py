"""The hand-written statement of identity: every authenticated request reads its user (the
statements of access, which need the schools' models, are in schools/hot.py).

Compiling a queryset costs more CPU than running its SQL (bench/RESULTS.md), so this is written
once, as text, with the toolkit of config/sql.py, and gives the ORM's own instance. Beside the
function `<name>` stands `<name>_orm`, the same through the ORM: it says what the SQL means, and
tests/gradebook/test_hot_sql.py holds every pair equal on SQLite and PostgreSQL. A new fast
path comes here only with a measurement that shows the need (docs/development.md).
"""

from __future__ import annotations

from accounts.models import User
from config import sql

# --- The session's user ---------------------------------------------------------------------------

_USER = sql.statement('SELECT {u.columns} FROM {u.table} u WHERE u."id" = %s', u=User)


def session_user(user_id: int) -> User | None:
    """The user with this id, active or not (the backend decides), or None."""
    row = sql.fetch_one(_USER, [user_id])
    return None if row is None else sql.build(User, row)


def session_user_orm(user_id: int) -> User | None:
    return User.objects.filter(pk=user_id).first()
