"""What changed between two snapshots of a transcript, as rows a principal can read."""

from __future__ import annotations

import dataclasses
from typing import Any

from django.utils.translation import gettext_lazy as _

#: How snapshot keys read in the "what changed" table; a key mapped to "" is left out of the path
#: (e.g. "subjects › Ngữ văn › term2" reads "Ngữ văn › Học kỳ II").
LABELS = {
    "subjects": "",
    "term1": _("Term I"),
    "term2": _("Term II"),
    "year": _("Whole year"),
    "reassessment": _("Re-assessment"),
    "reassessed": _("Re-assessment"),
    "comment": _("Comment"),
    "conduct": _("Conduct"),
    "learning": _("Learning"),
    "absences": _("Absences"),
    "award": _("Award"),
    "promotion": _("Promotion"),
    "homeroom_comment": _("Homeroom teacher's comment"),
    "student": _("Student"),
    "school": _("School"),
    "teacher_name": _("Subject teacher"),
    "registration_number": _("Registration number"),
    "admission_date": _("Date of admission"),
    "place_name": _("Place name"),
    "principal_name": _("Principal"),
}

#: Keys shown instead of a value's structure: a result or level prints as its "display"/"name".
_SHOWN = ("display", "name", "text")


@dataclasses.dataclass(frozen=True)
class Change:
    where: str
    before: str
    after: str


def _shown(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, dict):
        for key in _SHOWN:
            if key in value and not isinstance(value[key], dict | list):
                return str(value[key])
        return ", ".join(f"{k}: {_shown(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_shown(v) for v in value)
    if isinstance(value, bool):
        return "✓" if value else "✗"
    return str(value)


def _key(item: Any, index: int) -> str:
    """A list item's label: its name (subjects, qualities) or its position."""
    if isinstance(item, dict):
        for key in ("name", "code"):
            if item.get(key):
                return str(item[key])
    return str(index + 1)


def _join(where: str, key: str) -> str:
    label = str(LABELS.get(key, key))
    if not label:
        return where
    return f"{where} › {label}" if where else label


def _walk(before: Any, after: Any, where: str, out: list[Change]) -> None:
    if before == after:
        return
    if isinstance(before, dict) and isinstance(after, dict):
        shown_before, shown_after = _shown(before), _shown(after)
        leafish = any(key in before or key in after for key in _SHOWN)
        if leafish and shown_before != shown_after:
            out.append(Change(where, shown_before, shown_after))
            return
        # A key only one side has came with a newer snapshot format (a subject's teacher, the
        # word of a code), not with a change of the data: it is not a difference.
        for key in sorted(set(before) & set(after)):
            if key.endswith("_display") or key in ("format",):
                continue
            _walk(before[key], after[key], _join(where, key), out)
        return
    if (
        isinstance(before, list)
        and isinstance(after, list)
        and all(isinstance(item, dict) for item in before + after)
    ):
        old = {_key(item, i): item for i, item in enumerate(before)}
        new = {_key(item, i): item for i, item in enumerate(after)}
        for key in list(old) + [k for k in new if k not in old]:
            _walk(old.get(key), new.get(key), _join(where, key), out)
        return
    if _shown(before) != _shown(after):  # "" and None both print as nothing
        out.append(Change(where, _shown(before), _shown(after)))


def snapshot_changes(before: dict, after: dict) -> list[Change]:
    """Every printed difference from ``before`` to ``after``, in snapshot order."""
    out: list[Change] = []
    _walk(before, after, "", out)
    return out
