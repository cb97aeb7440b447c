"""Small database helpers for the gradebook's write paths."""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import IntegrityError, models, transaction

M = TypeVar("M", bound=models.Model)


def lock_or_create(model: type[M], *, defaults: dict[str, Any], **lookup: Any) -> M:
    """The row matching `lookup`, created with `defaults` if missing, locked (SELECT … FOR
    UPDATE) for the rest of the transaction. One query when the row exists; safe when two
    transactions create it at once (the loser locks the winner's row)."""
    row = model.objects.select_for_update().filter(**lookup).first()
    if row is None:
        try:
            with transaction.atomic():
                model.objects.create(**lookup, **defaults)
        except IntegrityError:
            pass  # created concurrently
        row = model.objects.select_for_update().get(**lookup)
    return row
