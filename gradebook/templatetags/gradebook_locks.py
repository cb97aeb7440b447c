"""Template tags of locks and corrections: words for cells and locks, and the dashboard's
correction counts (read by gradebook/corrections.py). The grid's lock panel is read by
`locks.lock_panel` in the view and only shown by templates/gradebook/_lock_panel.html."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import template

from gradebook import corrections, locks
from gradebook.columns import COMPETENCIES, QUALITIES
from gradebook.models import Kind, Lock, Mark
from gradebook.rules.secondary import mark_label
from schools.access import SchoolAccess

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

register = template.Library()

SLOT_NAMES: dict[str, dict[str, StrOrPromise]] = {
    Kind.QUALITY: dict(QUALITIES),
    Kind.COMPETENCY: dict(COMPETENCIES),
}


@register.simple_tag
def dashboard_corrections(access: SchoolAccess) -> corrections.DashboardCorrections:
    """`{% dashboard_corrections access as corrections %}`: the dashboard's buttons
    (`corrections.dashboard_corrections`; the dashboard is a page of schools, which knows
    nothing of the gradebook, so its template asks here)."""
    return corrections.dashboard_corrections(access)


@register.filter
def cell_label(mark: Mark) -> str:
    """A cell's short name: "TX2", "GK", "CK", "Conduct", "Honesty"…"""
    short = mark_label(mark.kind, mark.slot)
    if short is not None:
        return short
    label = str(Kind(mark.kind).label)
    slot_name = SLOT_NAMES.get(mark.kind, {}).get(mark.slot)
    if slot_name:
        return f"{label}: {slot_name}"
    return f"{label} {mark.slot}".strip()


@register.filter
def term_name(term: int | None) -> str:
    return locks.term_name(term)


@register.filter
def lock_scope(lock: Lock) -> str:
    return locks.lock_scope(lock)
