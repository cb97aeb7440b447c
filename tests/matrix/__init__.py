"""The permission matrix: every URL × every persona → expected status.

Each area adds a module here with a ROWS list; tests/test_permission_matrix.py collects them all
and fails if any URL of the project is missing from the matrix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    """One URL: `name` (namespaced URL name), `kwargs(world)` → URL kwargs, and the expected
    status per persona for a GET. "login" means a redirect to the login page."""

    name: str
    kwargs: Callable[[dict], dict]
    expect: dict[str, int | str]
    label: str = ""
    method: str = "GET"

    @property
    def id(self) -> str:
        return f"{self.method} {self.name}{'[' + self.label + ']' if self.label else ''}"


def everyone(status: int, **overrides: int | str) -> dict[str, int | str]:
    """Expected statuses: anonymous → login, every persona → `status`, then the overrides."""
    expect: dict[str, int | str] = dict.fromkeys(
        ("teacher", "homeroom", "principal", "admin", "outsider"), status
    )
    expect["anonymous"] = "login"
    expect.update(overrides)
    return expect


def school_a(world: dict) -> dict:
    return {"code": world["school_a"].code}


def school_b(world: dict) -> dict:
    return {"code": world["school_b"].code}
