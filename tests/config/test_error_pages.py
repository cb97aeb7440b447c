"""The error pages (400, 403, 404, 500 and a refused CSRF token) are the product's own: in the
user's language, inside the layout of templates/base.html, with a way back. DEBUG is off in
every test: with DEBUG on Django shows its technical pages instead."""

import pytest
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.test import Client
from django.urls import path, reverse
from django.utils import translation
from django.utils.translation import gettext


def boom(request: HttpRequest):
    raise RuntimeError("an unexpected fault")


urlpatterns = [path("boom/", boom)]  # nothing else: the 500 page may not reverse a URL

LAYOUT = "navbar-brand"  # templates/base.html's navigation bar


@pytest.fixture(autouse=True)
def debug_off(settings):
    settings.DEBUG = False


def in_language(client: Client, language: str) -> Client:
    client.cookies["django_language"] = language
    return client


def page(response) -> str:
    return response.content.decode()


@pytest.mark.parametrize("language", ["vi", "en"])
def test_not_found_is_the_products_page_with_a_way_home(client, teacher, language):
    client.force_login(teacher)
    response = in_language(client, language).get("/s/NO-SUCH-SCHOOL/")
    assert response.status_code == 404
    html = page(response)
    assert f'lang="{language}"' in html
    assert LAYOUT in html
    assert 'id="error-home"' in html
    assert "Not Found" not in html  # Django's bare page
    with translation.override(language):
        assert gettext("Page not found") in html
        assert gettext("Home") in html
    if language == "vi":
        assert "Trang chủ" in html


@pytest.mark.parametrize("language", ["vi", "en"])
def test_forbidden_is_the_products_page_with_the_users_menu(client, teacher, class_a2, language):
    """A teacher opening a class they do not teach: a 403 in the layout, the user's menu kept,
    and a way back to the page they came from."""
    client.force_login(teacher)
    url = reverse("schools:class_detail", args=["SCHOOLA", class_a2.pk])
    came_from = "http://testserver" + reverse("schools:dashboard", args=["SCHOOLA"])
    response = in_language(client, language).get(url, HTTP_REFERER=came_from)
    assert response.status_code == 403
    html = page(response)
    assert "403 Forbidden" not in html
    assert f'lang="{language}"' in html
    assert LAYOUT in html and teacher.display_name in html
    assert f'id="error-back" href="{came_from}"' in html
    with translation.override(language):
        assert gettext("You may not open this page") in html
    if language == "vi":
        assert "Quay lại" in html and "Trang chủ" in html


def test_a_back_link_never_leads_to_another_site(client, teacher, class_a2):
    client.force_login(teacher)
    url = reverse("schools:class_detail", args=["SCHOOLA", class_a2.pk])
    response = client.get(url, HTTP_REFERER="https://evil.example/phish")
    assert response.status_code == 403
    assert "evil.example" not in page(response)
    assert 'id="error-back"' not in page(response)


@pytest.mark.parametrize("language", ["vi", "en"])
def test_a_refused_csrf_token_is_the_products_page(db, settings, language):
    """The CSRF failure view (settings.CSRF_FAILURE_VIEW) explains what to do, in the layout."""
    client = in_language(Client(enforce_csrf_checks=True), language)
    response = client.post(reverse("account_login"), {"login": "x", "password": "y"})
    assert response.status_code == 403
    html = page(response)
    assert "CSRF verification failed" not in html
    assert f'lang="{language}"' in html and LAYOUT in html
    with translation.override(language):
        assert gettext("This form has expired") in html
    assert 'id="error-home"' in html


@pytest.mark.parametrize("language", ["vi", "en"])
def test_a_bad_request_is_the_products_page(client, db, settings, language):
    settings.ALLOWED_HOSTS = ["testserver"]
    response = in_language(client, language).get("/", HTTP_HOST="not-allowed.example")
    assert response.status_code == 400
    html = page(response)
    assert "Bad Request (400)" not in html
    assert f'lang="{language}"' in html and LAYOUT in html
    with translation.override(language):
        assert gettext("The request could not be understood") in html


@pytest.mark.urls("tests.config.test_error_pages")
@pytest.mark.parametrize("language", ["vi", "en"])
def test_a_server_error_is_the_products_static_page(client, db, language):
    """The 500 page renders with no request context and no URL to reverse (the URLconf here has
    neither 'home' nor 'set_language'): it is static."""
    client.raise_request_exception = False
    response = in_language(client, language).get("/boom/")
    assert response.status_code == 500
    html = page(response)
    assert "Server Error (500)" not in html
    assert f'lang="{language}"' in html and LAYOUT in html
    assert 'id="error-home" href="/"' in html
    with translation.override(language):
        assert gettext("Something went wrong on our side") in html


def test_the_server_error_page_needs_no_query_and_no_request(db, django_assert_num_queries):
    with django_assert_num_queries(0):
        html = render_to_string("500.html")
    assert 'id="error-home" href="/"' in html
    assert "dropdown-menu" not in html  # no user menu
    assert 'name="language"' not in html  # no form that would need a CSRF token
