"""Every URL × every persona → expected status (GET). A new URL must join the matrix."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

import tests.matrix
from tests.matrix import Row

# URLs that belong to third-party apps, covered by those apps' own tests.
EXTERNAL_PREFIXES = ("account_", "mfa_", "admin:", "set_language", "javascript-catalog")


def all_rows() -> list[Row]:
    rows: list[Row] = []
    for module in pkgutil.iter_modules(tests.matrix.__path__):
        rows.extend(importlib.import_module(f"tests.matrix.{module.name}").ROWS)
    return rows


def project_url_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns, namespace: str = "") -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
                walk(p.url_patterns, ns)
            elif isinstance(p, URLPattern) and p.name:
                names.add(namespace + p.name)

    walk(get_resolver().url_patterns)
    return {n for n in names if not n.startswith(EXTERNAL_PREFIXES)}


def test_every_url_is_in_the_matrix():
    covered = {row.name for row in all_rows()}
    missing = project_url_names() - covered
    assert not missing, f"URLs missing from the permission matrix: {sorted(missing)}"


@pytest.mark.parametrize("row", all_rows(), ids=lambda r: r.id)
@pytest.mark.parametrize(
    "persona", ["anonymous", "teacher", "homeroom", "principal", "admin", "outsider"]
)
def test_permission_matrix(client, world, row: Row, persona: str):
    if persona != "anonymous":
        client.force_login(world["users"][persona])
    url = reverse(row.name, kwargs=row.kwargs(world))
    response = client.generic(row.method, url)
    expected = row.expect[persona]
    if expected == "login":
        assert response.status_code == 302, (persona, url, response.status_code)
        assert response.url.startswith(reverse("account_login")), response.url
    else:
        assert response.status_code == expected, (persona, url, response.status_code)
