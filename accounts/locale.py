from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers

from accounts.models import User


class DefaultLanguageMiddleware:
    """Vietnamese unless the user chose otherwise.

    Django's LocaleMiddleware follows the browser's Accept-Language, and many school computers
    run browsers in English; a Vietnamese school's product should still speak Vietnamese. The
    language is the one picked in the navigation bar (the language cookie set by Django's
    set_language view), else settings.LANGUAGE_CODE.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.supported = {code for code, _ in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in self.supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        if chosen in self.supported:
            remember_language(request, chosen)
        patch_vary_headers(response, ("Cookie",))
        response.headers.setdefault("Content-Language", language)
        return response


def remember_language(request: HttpRequest, language: str) -> None:
    """Keep the language a logged-in person chose, for their notification e-mails: one UPDATE
    when it changes, none otherwise (the user was read by the request already)."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.language != language:
        User.objects.filter(pk=user.pk).update(language=language)
        user.language = language
