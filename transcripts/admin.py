"""Signing credentials are shown to platform operators, never added, changed or deleted here:
the product's signing set-up pages do that, with the signer's checks."""

from django.contrib import admin

from accounts.admin_site import ReadOnlyModelAdmin
from transcripts.models import SigningCredential


@admin.register(SigningCredential)
class SigningCredentialAdmin(ReadOnlyModelAdmin):
    list_display = ("school", "user", "kind", "is_active", "created_at")
    list_filter = ("kind", "is_active")
    fields = ("school", "user", "kind", "config", "certificate_pem", "is_active", "created_at")
