"""Which application instance answered: with INSTANCE_NAME set (several application machines
behind a load balancer, `make serve-cluster`), every response carries ``X-Instance: <name>``.
Not installed when INSTANCE_NAME is empty (config/settings.py)."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


class InstanceHeaderMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.name = settings.INSTANCE_NAME

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response["X-Instance"] = self.name
        return response
