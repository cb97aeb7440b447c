"""Template tags of locks and corrections: words for cells and locks, and the dashboard's
correction counts (read by gradebook/corrections.py). The grid's lock panel is read by
`locks.lock_panel` in the view and only shown by templates/gradebook/_lock_panel.html."""

from __future__ import annotations

from django import template

from gradebook import corrections, locks
from gradebook.messages import cell_words
from gradebook.models import Lock, Mark
from schools.access import SchoolAccess

register = template.Library()


@register.simple_tag
def dashboard_corrections(access: SchoolAccess) -> corrections.DashboardCorrections:
    """`{% dashboard_corrections access as corrections %}`: the dashboard's buttons
    (`corrections.dashboard_corrections`; the dashboard is a page of schools, which knows
    nothing of the gradebook, so its template asks here)."""
    return corrections.dashboard_corrections(access)


@register.filter
def cell_label(mark: Mark) -> str:
    """A cell's short name: "TX2", "GK", "CK", "Conduct", "Honesty"…"""
    return cell_words(mark.kind, mark.slot)


@register.filter
def term_name(term: int | None) -> str:
    return locks.term_name(term)


@register.filter
def lock_scope(lock: Lock) -> str:
    return locks.lock_scope(lock)
