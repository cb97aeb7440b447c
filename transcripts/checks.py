"""Deployment checks of the transcripts app (`manage.py check --deploy`); registered when the app
is ready (transcripts/apps.py)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks
from django.utils import translation

from transcripts.packages.uploads import host_refusal


@checks.register(checks.Tags.security, deploy=True)
def check_province_upload_url(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """PROVINCE_UPLOAD_URL must name one of PROVINCE_UPLOAD_HOSTS: uploads refuse it otherwise
    (`host_refusal`, the rule the settings form, the upload and the worker apply), so a school
    without its own address could never upload."""
    url = (settings.PROVINCE_UPLOAD_URL or "").strip()
    if not url:
        return []
    with translation.override("en"):
        refusal = host_refusal(url)
    if refusal is None:
        return []
    return [
        checks.Warning(
            f"PROVINCE_UPLOAD_URL={url!r} cannot be used: {refusal}",
            hint="Set PROVINCE_UPLOAD_HOSTS to the Department's servers, or correct "
            "PROVINCE_UPLOAD_URL (docs/provincial-upload.md).",
            id="transcripts.W001",
        )
    ]
