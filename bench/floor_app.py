"""The WSGI applications `floor.py` serves with gunicorn: what a request costs before any
gradebook work. Not part of the product.

- `bare`: a WSGI callable answering a small JSON body: gunicorn's own cost per request.
- `django`: the product's Django application with its full middleware stack, on the
  product's URLs plus two of this file's (`ROOT_URLCONF=floor_app`):
  `/floor/anonymous/` answers without reading the session; `/floor/session/` reads the
  session and the user as every gradebook request does, and answers their id.
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

BODY = b'{"ok": true}'


def bare(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "12")])
    return [BODY]


def _anonymous(request):
    from django.http import JsonResponse

    return JsonResponse({"ok": True})


def _session(request):
    from django.http import JsonResponse

    return JsonResponse({"user": request.user.pk})


def _urlpatterns():
    from django.contrib.auth.decorators import login_not_required
    from django.urls import include, path

    return [
        path("floor/anonymous/", login_not_required(_anonymous)),
        path("floor/session/", _session),
        path("", include("config.urls")),
    ]


def __getattr__(name):
    if name == "urlpatterns":  # read by Django's URL resolver once the app is set up
        return _urlpatterns()
    if name == "django":
        from django.conf import settings
        from django.core.wsgi import get_wsgi_application

        application = get_wsgi_application()
        settings.ROOT_URLCONF = "floor_app"
        return application
    raise AttributeError(name)
