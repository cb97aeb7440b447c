"""Serve a stored file (a signed transcript file, a package) from the storage, after the
caller's access check: streamed from the file system or the object store, never through a
public URL. A missing object is a "file not available" page (404), a store that cannot be
reached the same page with 503, never a server error."""

from __future__ import annotations

import logging

from django.db.models.fields.files import FieldFile
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils.translation import gettext as _

from config.storage import StorageUnavailable
from config.views import back_url

logger = logging.getLogger(__name__)


def stored_file_response(
    request: HttpRequest,
    field: FieldFile,
    *,
    filename: str,
    as_attachment: bool,
    content_type: str | None = None,
) -> HttpResponseBase:
    try:
        handle = field.open("rb")
    except FileNotFoundError:
        logger.error("stored file %s is missing", field.name)
        return unavailable_response(request, missing=True)
    except StorageUnavailable as exc:
        logger.error("stored file %s: the store failed (%s)", field.name, exc.detail)
        return unavailable_response(request, missing=False)
    response = FileResponse(
        handle, as_attachment=as_attachment, filename=filename, content_type=content_type
    )
    if "Content-Length" not in response and getattr(handle, "size", None) is not None:
        response["Content-Length"] = str(handle.size)
    return response


def unavailable_response(request: HttpRequest, *, missing: bool) -> HttpResponse:
    """The "file not available" page: 404 for a missing object, 503 for a store that cannot be
    reached (also for a page built from stored files, transcripts.views.transfers)."""
    if missing:
        explanation = _(
            "The stored file is missing from the file store. Nothing was changed; tell the "
            "school's administrator, who can restore it from the backup."
        )
    else:
        explanation = _("The file store cannot be reached at the moment. Try again later.")
    return render(
        request,
        "transcripts/stored_unavailable.html",
        {"explanation": explanation, "back_url": back_url(request)},
        status=404 if missing else 503,
    )
