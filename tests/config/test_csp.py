"""The Content-Security-Policy header (config/csp.py) on every response, and templates that need
no inline script or stylesheet under it. tests/browser runs every page it drives with the
header on and fails on any violation Chromium reports (tests/browser/conftest.py)."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.http import HttpRequest
from django.urls import path, reverse

ROOT = Path(settings.BASE_DIR)


def boom(request: HttpRequest):
    raise RuntimeError("an unexpected fault")


urlpatterns = [path("boom/", boom)]


def policy(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    directives = [part.split() for part in header.split(";") if part.strip()]
    return {name: sources for name, *sources in directives}


def assert_strict(found: dict[str, list[str]]) -> None:
    assert found["default-src"] == ["'self'"]
    assert found["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval'
    assert found["style-src"] == ["'self'"]
    assert found["style-src-attr"] == ["'unsafe-inline'"]
    assert found["img-src"] == ["'self'", "data:"]
    assert found["object-src"] == ["'none'"]
    assert found["base-uri"] == ["'self'"]
    assert found["form-action"] == ["'self'"]
    assert found["frame-ancestors"] == ["'none'"]


def test_a_page_behind_the_login_has_the_policy(client, teacher):
    client.force_login(teacher)
    response = client.get(reverse("schools:dashboard", args=["SCHOOLA"]))
    assert response.status_code == 200
    assert_strict(policy(response))


@pytest.mark.parametrize("name", ["account_login", "transcripts:verify_home"])
def test_public_pages_have_the_policy(client, db, name):
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert_strict(policy(response))


def test_error_pages_and_a_json_error_have_the_policy(client, teacher, class_a):
    client.force_login(teacher)
    not_found = client.get("/s/NO-SUCH-SCHOOL/")
    assert not_found.status_code == 404
    assert_strict(policy(not_found))
    maths = class_a.year.school.subjects.get(code="TOAN")
    url = reverse("gradebook:grid_changes", args=["SCHOOLA", class_a.pk, maths.pk, 1])
    refused = client.get(url, {"since": "yesterday"})
    assert refused.status_code == 400
    assert_strict(policy(refused))


def test_a_refused_form_has_the_policy(db):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    forbidden = client.post(reverse("account_login"), {"login": "x", "password": "y"})
    assert forbidden.status_code == 403
    assert_strict(policy(forbidden))


@pytest.mark.urls("tests.config.test_csp")
def test_a_server_error_has_the_policy(client, db):
    client.raise_request_exception = False
    response = client.get("/boom/")
    assert response.status_code == 500
    assert_strict(policy(response))


def test_the_signing_companion_may_be_reached_from_the_page(client, db, settings):
    settings.SIGNING_COMPANION_URL = "http://127.0.0.1:8790/some/path"
    found = policy(client.get(reverse("account_login")))
    assert found["connect-src"] == ["'self'", "http://127.0.0.1:8790"]


# --- The templates need nothing inline -----------------------------------------------------------

TEMPLATES = sorted((ROOT / "templates").rglob("*.html"))


def template_problems(pattern: str) -> list[str]:
    found = []
    for template in TEMPLATES:
        for number, line in enumerate(template.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(pattern, line, flags=re.IGNORECASE):
                found.append(f"{template.relative_to(ROOT)}:{number}")
    return found


def test_no_template_has_an_inline_script():
    assert template_problems(r"<script(?![^>]*\bsrc=)") == []


def test_no_template_has_an_event_handler_attribute():
    assert template_problems(r"<[^>]*\son[a-z]+\s*=") == []


def test_no_template_has_a_style_element():
    """Stylesheets are static files (style-src 'self'); style attributes are allowed."""
    assert template_problems(r"<style[\s>]") == []
