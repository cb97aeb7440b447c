"""The Django admin, for platform operators: reached only through the product's login (its rate
limits and its two-factor step) and only by active staff whose session passed a TOTP code."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme


def passed_mfa(request: HttpRequest) -> bool:
    """Whether this session's login (or a later re-authentication) included a TOTP or recovery
    code, as allauth records it."""
    from allauth.account.authentication import get_authentication_records

    records = get_authentication_records(request, request.user)
    return any(record.get("method") == "mfa" for record in records)


class ProductAdminSite(admin.AdminSite):
    def has_permission(self, request: HttpRequest) -> bool:
        from accounts.totp import has_totp  # models: the app registry is not ready at import

        user = request.user
        return bool(user.is_active and user.is_staff and has_totp(user) and passed_mfa(request))

    @login_not_required
    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        """No password form of its own: the product's login, then its MFA steps."""
        from django.contrib.auth.views import redirect_to_login  # imports the user model

        target = request.GET.get(REDIRECT_FIELD_NAME, "")
        if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
            target = ""
        target = target or reverse("admin:index", current_app=self.name)
        from accounts.totp import has_totp

        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(target, login_url=reverse("account_login"))
        if not (user.is_active and user.is_staff):
            raise PermissionDenied
        if not has_totp(user):
            return redirect("mfa_activate_totp")
        if not passed_mfa(request):
            return redirect_to_login(target, login_url=reverse("mfa_reauthenticate"))
        return redirect(target)


class ProductAdminConfig(AdminConfig):
    default_site = "accounts.admin_site.ProductAdminSite"


class ReadOnlyModelAdmin(admin.ModelAdmin):
    """Shown, never added, changed or deleted here: the product's own pages do that, with their
    checks and their audit."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
