"""Signing credentials are shown to platform operators, never added, changed or deleted here:
the product's signing set-up pages do that, with the signer's checks."""

from django.contrib import admin

from accounts.admin_site import ReadOnlyModelAdmin
from transcripts.models import ReceivedDocument, ReceivedPackage, SigningCredential


@admin.register(SigningCredential)
class SigningCredentialAdmin(ReadOnlyModelAdmin):
    list_display = ("school", "user", "kind", "is_active", "created_at")
    list_filter = ("kind", "is_active")
    fields = ("school", "user", "kind", "config", "certificate_pem", "is_active", "created_at")


@admin.register(ReceivedPackage)
class ReceivedPackageAdmin(ReadOnlyModelAdmin):
    """Transfer packages as they arrived: never changed (docs/exports.md, transfers)."""

    list_display = ("school", "student", "source_school_code", "verified_at")
    fields = ("school", "student", "source_school_code", "source_school_name", "package_id",
              "sha256", "verified_at", "received_by")  # fmt: skip


@admin.register(ReceivedDocument)
class ReceivedDocumentAdmin(ReadOnlyModelAdmin):
    list_display = ("school", "student", "year_label", "class_name", "source_school_code")
    fields = ("school", "student", "source_school_code", "source_school_name", "year_label",
              "grade", "class_name", "transcript_id", "version", "verification_code",
              "pdf_sha256", "xml_sha256")  # fmt: skip
