"""Access getters for transcripts, built on schools.access: another school's transcript is a
404; a transcript of the user's school is open to the leadership and admin (read), and to the
homeroom teacher of its class."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from schools.access import SchoolAccess
from transcripts.models import Transcript, TranscriptJob, TranscriptPackage


def get_transcript(access: SchoolAccess, pk: int) -> Transcript:
    transcript = get_object_or_404(
        Transcript.objects.select_related(
            "student", "class_group", "class_group__homeroom_teacher", "year", "school"
        ),
        pk=pk,
        school=access.school,
    )
    homeroom = transcript.class_group.homeroom_teacher_id == access.user.pk
    if not (access.sees_whole_school or homeroom):
        raise PermissionDenied
    return transcript


def get_job(access: SchoolAccess, pk: int) -> TranscriptJob:
    """A job of this school: its starter and the leadership see it."""
    job = get_object_or_404(
        TranscriptJob.objects.select_related("created_by", "class_group"),
        pk=pk,
        school=access.school,
    )
    if job.created_by_id != access.user.pk and not access.sees_whole_school:
        raise PermissionDenied
    return job


def get_package(access: SchoolAccess, pk: int) -> TranscriptPackage:
    """A package of this school (callers have checked the export roles)."""
    return get_object_or_404(
        TranscriptPackage.objects.select_related("created_by", "year", "school", "student"),
        pk=pk,
        school=access.school,
    )
