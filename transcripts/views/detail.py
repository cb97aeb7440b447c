"""One transcript: its version history (signatures, superseded versions and why, the state
events), what changed since the previous version, the preview as it will print, the stored
signed files, and the principal's return and reopen actions."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST, require_safe

from accounts.http import AuthenticatedRequest
from schools.access import get_school
from transcripts import workflow
from transcripts.access import get_transcript
from transcripts.diff import snapshot_changes
from transcripts.forms import CommentForm
from transcripts.models import State, TranscriptVersion
from transcripts.pipeline import verification_url
from transcripts.render import transcript_html
from transcripts.snapshot import build_snapshot
from transcripts.views.review import state_badge, step_sets_for
from transcripts.views.stored import stored_file_response


@require_safe
def detail(request: AuthenticatedRequest, code: str, pk: int) -> HttpResponse:
    access = get_school(request, code)
    transcript = get_transcript(access, pk)
    versions = list(
        transcript.versions.order_by("-number").prefetch_related("signatures__signed_by")
    )
    changes = None
    if len(versions) >= 2:
        changes = snapshot_changes(versions[1].snapshot, versions[0].snapshot)
    leader = access.is_leader
    return render(
        request,
        "transcripts/detail.html",
        {
            "access": access,
            "transcript": transcript,
            "badge": state_badge(transcript),
            "versions": versions,
            "changes": changes,
            "events": transcript.events.select_related("actor").order_by("-at", "-pk"),
            "can_return": leader and transcript.state in workflow.TRANSITIONS["return"][0],
            "can_reopen": access.is_principal and transcript.state == State.FINAL,
            "sign_steps": step_sets_for(access) if leader else {},
            "comment_form": CommentForm(),
        },
    )


@require_safe
@xframe_options_sameorigin
def preview(request: AuthenticatedRequest, code: str, pk: int) -> HttpResponse:
    """The page as it will print: the current version's snapshot, or for a draft the data as it
    stands now (marked as a draft)."""
    access = get_school(request, code)
    transcript = get_transcript(access, pk)
    version = transcript.current_version
    if transcript.state == State.DRAFT or version is None:
        snapshot, code_shown, draft = build_snapshot(transcript.student, transcript.year), "", True
    else:
        snapshot, code_shown, draft = version.snapshot, version.verification_code, False
    html = transcript_html(
        snapshot,
        verification_code=code_shown or "—",
        verification_url=verification_url(code_shown or "preview"),
    )
    banner = (
        '<div style="font-family:sans-serif;background:#fff3cd;padding:.5rem;text-align:center">'
        "BẢN XEM TRƯỚC — DỮ LIỆU CHƯA XÁC NHẬN (DRAFT)</div>"
        if draft
        else ""
    )
    head = f'<link rel="stylesheet" href="{static("css/hoc_ba.css")}">'
    html = html.replace("</head>", head + "</head>", 1).replace("<body>", "<body>" + banner, 1)
    return HttpResponse(html)


@require_safe
def download(
    request: AuthenticatedRequest, code: str, pk: int, number: int, kind: str
) -> HttpResponseBase:
    """A version's stored file (never re-rendered): the signed PDF/A-3 or the signed XML."""
    access = get_school(request, code)
    transcript = get_transcript(access, pk)
    version = get_object_or_404(TranscriptVersion, transcript=transcript, number=number)
    field = {"pdf": version.pdf_file, "xml": version.xml_file}.get(kind)
    if field is None or not field:
        raise Http404
    name = f"hocba-{transcript.student.student_code}-{transcript.year.name}-v{number}.{kind}"
    return stored_file_response(request, field, as_attachment=kind == "xml", filename=name)


def _act(
    request: AuthenticatedRequest, code: str, pk: int, action, field: str, done: str
) -> HttpResponse:
    """Run a workflow ``action`` that takes the POSTed comment as its ``field`` argument."""
    access = get_school(request, code)
    transcript = get_transcript(access, pk)
    if not access.is_leader:
        raise PermissionDenied
    form = CommentForm(request.POST)
    if not form.is_valid():
        messages.error(request, "; ".join(str(m) for e in form.errors.values() for m in e))
    else:
        try:
            action(
                actor=request.user, transcript=transcript, **{field: form.cleaned_data["comment"]}
            )
        except workflow.TranscriptRefused as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, done % {"name": transcript.student.full_name})
    return redirect("hocba:detail", access.school.code, transcript.pk)


@require_POST
def return_transcript(request: AuthenticatedRequest, code: str, pk: int) -> HttpResponse:
    return _act(
        request,
        code,
        pk,
        workflow.return_to_homeroom,
        "comment",
        _("The transcript of %(name)s was returned to the homeroom teacher."),
    )


@require_POST
def reopen_transcript(request: AuthenticatedRequest, code: str, pk: int) -> HttpResponse:
    return _act(
        request,
        code,
        pk,
        workflow.reopen,
        "reason",
        _(
            "The transcript of %(name)s was reopened: its signed version is kept as superseded, "
            "and the corrected data goes through confirmation and signing again."
        ),
    )
