"""Small database helpers for the gradebook's write paths."""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import models

from config import sql

M = TypeVar("M", bound=models.Model)


def lock_or_create(model: type[M], *, defaults: dict[str, Any], **lookup: Any) -> M:
    """The row matching `lookup`, created with `defaults` if missing, locked (SELECT … FOR
    UPDATE) for the rest of the transaction. One query when the row exists (hand-written:
    every mark save runs it for its school's ledger head, config/sql.py); safe when two
    transactions create it at once (the loser locks the winner's row)."""
    row = sql.select_for_update(model, **lookup)
    return create_locked(model, defaults=defaults, **lookup) if row is None else row


def create_locked(model: type[M], *, defaults: dict[str, Any], **lookup: Any) -> M:
    """A row known to be missing, created with `defaults` (unless another transaction has
    just created it) and locked for the rest of the transaction."""
    sql.insert(model(**lookup, **defaults), ignore_conflicts=True)
    return sql.select_for_update(model, **lookup)
