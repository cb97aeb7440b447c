"""The school's transcript screens (hocba:*).

- The review queue and the leadership's signing are for the principal / vice principal only
  (the admin sees the whole school but does not sign).
- A class's transcript screen is the homeroom book's: leadership/admin and the class's homeroom
  teacher read it; only the homeroom teacher starts a job on it.
- One transcript (history, preview, stored files) is for leadership/admin and the homeroom
  teacher of its class; return / reopen are the signing leaders' (a POST without a comment just
  redirects back with an error message).
- A job is seen by its starter and the leadership/admin; only its starter retries it, or resumes
  it once interrupted (its worker died).
- Another school's object is a 404; a POST-only URL answers a GET with 405 (after the login
  redirect for anonymous visitors).

The stored-file download is checked on a version without a rendered file (a 404 for those who
may read it), so that the matrix does not write into MEDIA_ROOT.
"""

import datetime
import functools

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.utils import timezone

from schools.models import ClassGroup
from tests.matrix import Row, everyone, school_a, school_b
from transcripts.models import (
    BatchStatus,
    CredentialKind,
    JobStatus,
    SigningBatch,
    SigningCredential,
    Transcript,
    TranscriptJob,
    TranscriptVersion,
)
from transcripts.workflow import transcript_for

LEADERS = everyone(403, principal=200, outsider=404)
HOMEROOM_BOOK = everyone(200, teacher=403, outsider=404)
NO_HOMEROOM = everyone(200, teacher=403, homeroom=403, outsider=404)
ELSEWHERE = everyone(404)
ONLY_OUTSIDER = everyone(404, outsider=200)
POST_ONLY = everyone(405)


# --- objects ----------------------------------------------------------------------------------


def transcript_of(class_group: ClassGroup) -> Transcript:
    student = class_group.enrollments.order_by("roll_number").first().student
    return transcript_for(student=student, class_group=class_group)


def own_class(w: dict) -> dict:
    return {**school_a(w), "class_pk": w["class_a"].pk}


def other_class(w: dict) -> dict:
    return {**school_a(w), "class_pk": w["class_a2"].pk}


def school_b_class(w: dict) -> dict:
    return {**school_a(w), "class_pk": w["class_b"].pk}


def own_transcript(w: dict) -> dict:
    return {**school_a(w), "pk": transcript_of(w["class_a"]).pk}


def other_class_transcript(w: dict) -> dict:
    return {**school_a(w), "pk": transcript_of(w["class_a2"]).pk}


def school_b_transcript(w: dict) -> dict:
    return {**school_a(w), "pk": transcript_of(w["class_b"]).pk}


def school_b_transcript_at_b(w: dict) -> dict:
    return {**school_b(w), "pk": transcript_of(w["class_b"]).pk}


def version_of(w: dict, class_group: ClassGroup) -> dict:
    """Version 1 of the class's first transcript, with no rendered file."""
    transcript = transcript_of(class_group)
    TranscriptVersion.objects.get_or_create(
        transcript=transcript,
        number=1,
        defaults={
            "snapshot": {},
            "snapshot_sha256": "0" * 64,
            "created_by": w["users"]["principal"],
        },
    )
    return {"pk": transcript.pk, "number": 1}


def own_version(kind: str):
    return lambda w: {**school_a(w), **version_of(w, w["class_a"]), "kind": kind}


def other_class_version(w: dict) -> dict:
    return {**school_a(w), **version_of(w, w["class_a2"]), "kind": "pdf"}


def make_job(
    w: dict,
    *,
    creator: str,
    class_group: ClassGroup,
    steps: list[str],
    with_class: bool = False,
    status: str = JobStatus.QUEUED,
) -> TranscriptJob:
    transcript = transcript_of(class_group)
    return TranscriptJob.objects.create(
        school=transcript.school,
        year=transcript.year,
        class_group=class_group if with_class else None,
        created_by=w["users"][creator],
        steps=steps,
        transcript_ids=[transcript.pk],
        total=1,
        status=status,
    )


def principal_job(w: dict) -> dict:
    job = make_job(w, creator="principal", class_group=w["class_a"], steps=["principal"])
    return {**school_a(w), "pk": job.pk}


def homeroom_job(w: dict) -> dict:
    job = make_job(
        w, creator="homeroom", class_group=w["class_a"], steps=["homeroom"], with_class=True
    )
    return {**school_a(w), "pk": job.pk}


def failed_homeroom_job(w: dict) -> dict:
    """A finished-with-failures signing job (not a confirm job: retrying that starts at once)."""
    job = make_job(
        w,
        creator="homeroom",
        class_group=w["class_a"],
        steps=["homeroom"],
        with_class=True,
        status=JobStatus.FAILED,
    )
    return {**school_a(w), "pk": job.pk}


def interrupted_homeroom_job(w: dict) -> dict:
    """A signing job whose worker died (issue 18, finding 9): resumable by its starter."""
    job = make_job(
        w,
        creator="homeroom",
        class_group=w["class_a"],
        steps=["homeroom"],
        with_class=True,
        status=JobStatus.INTERRUPTED,
    )
    return {**school_a(w), "pk": job.pk}


@functools.cache
def _matrix_certificate_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Matrix")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def companion_job(w: dict) -> dict:
    """The homeroom teacher's job waiting for their USB token (the signing companion)."""
    job = make_job(
        w,
        creator="homeroom",
        class_group=w["class_a"],
        steps=["homeroom"],
        with_class=True,
        status=JobStatus.WAITING,
    )
    credential = SigningCredential.objects.create(
        school=job.school,
        user=job.created_by,
        kind=CredentialKind.COMPANION,
        certificate_pem=_matrix_certificate_pem(),
    )
    SigningBatch.objects.create(
        job=job,
        role="homeroom",
        credential=credential,
        method=CredentialKind.COMPANION,
        status=BatchStatus.WAITING,
        certificate_pem=credential.certificate_pem,
        expires_at=timezone.now() + datetime.timedelta(minutes=10),
    )
    return {**school_a(w), "pk": job.pk}


def school_b_job(w: dict) -> dict:
    job = make_job(w, creator="outsider", class_group=w["class_b"], steps=["principal"])
    return {**school_a(w), "pk": job.pk}


def school_b_job_at_b(w: dict) -> dict:
    job = make_job(w, creator="outsider", class_group=w["class_b"], steps=["principal"])
    return {**school_b(w), "pk": job.pk}


# --- rows -------------------------------------------------------------------------------------

TRANSCRIPT_READ = [
    Row(name, own_transcript, HOMEROOM_BOOK, label="own homeroom class")
    for name in ("hocba:detail", "hocba:preview")
] + [
    row
    for name in ("hocba:detail", "hocba:preview")
    for row in (
        Row(name, other_class_transcript, NO_HOMEROOM, label="another class"),
        Row(name, school_b_transcript, ELSEWHERE, label="other school's transcript"),
        Row(name, school_b_transcript_at_b, ONLY_OUTSIDER, label="school B's, at school B"),
    )
]

LEADER_ACTIONS = [
    row
    for name in ("hocba:return", "hocba:reopen")
    for row in (
        Row(name, own_transcript, POST_ONLY, label="own homeroom class"),
        # No comment: the leader is sent back to the page with an error; others are refused.
        Row(
            name,
            own_transcript,
            everyone(403, principal=302, outsider=404),
            label="own homeroom class, no comment",
            method="POST",
        ),
        Row(
            name,
            other_class_transcript,
            everyone(403, principal=302, outsider=404),
            label="another class, no comment",
            method="POST",
        ),
        Row(
            name,
            school_b_transcript,
            ELSEWHERE,
            label="other school's transcript, no comment",
            method="POST",
        ),
    )
]

JOB_READ = [
    row
    for name in ("hocba:job", "hocba:job_progress")
    for row in (
        Row(
            name,
            principal_job,
            everyone(403, principal=200, admin=200, outsider=404),
            label="the principal's job",
        ),
        Row(name, homeroom_job, HOMEROOM_BOOK, label="the homeroom teacher's class job"),
        Row(name, school_b_job, ELSEWHERE, label="other school's job"),
        Row(name, school_b_job_at_b, ONLY_OUTSIDER, label="school B's, at school B"),
    )
]

ROWS = [
    # Review queue and the leadership's signing.
    Row("hocba:queue", school_a, LEADERS),
    Row("hocba:queue", school_b, ONLY_OUTSIDER, label="school B"),
    Row("hocba:sign", school_a, POST_ONLY),
    # No steps chosen: the leader gets a 404, the others are refused.
    Row(
        "hocba:sign",
        school_a,
        everyone(403, principal=404, outsider=404),
        label="no steps",
        method="POST",
    ),
    # A class's transcript screen and its jobs.
    Row("hocba:class", own_class, HOMEROOM_BOOK, label="own homeroom class"),
    Row("hocba:class", other_class, NO_HOMEROOM, label="another class"),
    Row("hocba:class", school_b_class, ELSEWHERE, label="other school's class"),
    Row("hocba:class_job", own_class, POST_ONLY, label="own homeroom class"),
    # Writing is the homeroom teacher's only; with no steps chosen that is a 404.
    Row(
        "hocba:class_job",
        own_class,
        everyone(403, homeroom=404, outsider=404),
        label="own homeroom class, no steps",
        method="POST",
    ),
    Row(
        "hocba:class_job",
        other_class,
        everyone(403, outsider=404),
        label="another class, no steps",
        method="POST",
    ),
    Row(
        "hocba:class_job",
        school_b_class,
        ELSEWHERE,
        label="other school's class, no steps",
        method="POST",
    ),
    # One transcript.
    *TRANSCRIPT_READ,
    Row(
        "hocba:download",
        own_version("pdf"),
        everyone(404, teacher=403),
        label="own homeroom class, pdf not rendered",
    ),
    Row(
        "hocba:download",
        own_version("xml"),
        everyone(404, teacher=403),
        label="own homeroom class, xml not rendered",
    ),
    Row(
        "hocba:download",
        other_class_version,
        everyone(404, teacher=403, homeroom=403),
        label="another class, pdf not rendered",
    ),
    *LEADER_ACTIONS,
    # Jobs.
    *JOB_READ,
    Row("hocba:job_retry", failed_homeroom_job, POST_ONLY, label="the homeroom teacher's job"),
    # Only the starter retries (the confirmation page); the others who may see it get a 404.
    Row(
        "hocba:job_retry",
        failed_homeroom_job,
        everyone(404, teacher=403, homeroom=200),
        label="the homeroom teacher's failed job",
        method="POST",
    ),
    Row(
        "hocba:job_retry",
        homeroom_job,
        everyone(404, teacher=403),
        label="the homeroom teacher's queued job",
        method="POST",
    ),
    Row("hocba:job_retry", school_b_job, ELSEWHERE, label="other school's job", method="POST"),
    Row(
        "hocba:job_retry",
        interrupted_homeroom_job,
        everyone(404, teacher=403, homeroom=200),
        label="the homeroom teacher's interrupted job (resumed)",
        method="POST",
    ),
    # An interrupted job: only its starter resumes it (the confirmation page); a job that is not
    # interrupted has nothing to resume.
    Row("hocba:job_resume", interrupted_homeroom_job, POST_ONLY, label="interrupted job"),
    Row(
        "hocba:job_resume",
        interrupted_homeroom_job,
        everyone(404, teacher=403, homeroom=200),
        label="the homeroom teacher's interrupted job",
        method="POST",
    ),
    Row(
        "hocba:job_resume",
        homeroom_job,
        everyone(404, teacher=403),
        label="the homeroom teacher's queued job",
        method="POST",
    ),
    Row("hocba:job_resume", school_b_job, ELSEWHERE, label="other school's job", method="POST"),
    # A job waiting for its signer: only the starter cancels it, reads the digests its USB token
    # signs and posts the values back (an empty body is refused as unreadable).
    Row("hocba:job_cancel", homeroom_job, POST_ONLY, label="the homeroom teacher's job"),
    Row(
        "hocba:job_cancel",
        companion_job,
        everyone(404, teacher=403, homeroom=302),
        label="waiting for the USB token",
        method="POST",
    ),
    Row("hocba:job_cancel", school_b_job, ELSEWHERE, label="other school's job", method="POST"),
    Row(
        "hocba:job_digests",
        companion_job,
        everyone(404, teacher=403, homeroom=200),
        label="waiting for the USB token",
    ),
    Row(
        "hocba:job_digests",
        homeroom_job,
        everyone(404, teacher=403),
        label="not waiting",
    ),
    Row("hocba:job_digests", school_b_job, ELSEWHERE, label="other school's job"),
    Row("hocba:job_values", companion_job, POST_ONLY, label="waiting for the USB token"),
    Row(
        "hocba:job_values",
        companion_job,
        everyone(404, teacher=403, homeroom=400),
        label="waiting for the USB token, empty body",
        method="POST",
    ),
    Row("hocba:job_values", school_b_job, ELSEWHERE, label="other school's job", method="POST"),
    # Signing settings: the people who sign (homeroom teachers of a current-year class, the
    # principal and vice principals) choose how they sign; the principal and the admin choose
    # how the school seal signs. An empty POST is a form with errors (400).
    Row("hocba:my_signing", school_a, everyone(403, homeroom=200, principal=200, outsider=404)),
    Row("hocba:my_signing", school_b, ONLY_OUTSIDER, label="school B"),
    Row(
        "hocba:my_signing",
        school_a,
        everyone(403, homeroom=400, principal=400, outsider=404),
        label="empty form",
        method="POST",
    ),
    Row("hocba:seal_signing", school_a, everyone(403, principal=200, admin=200, outsider=404)),
    Row("hocba:seal_signing", school_b, ONLY_OUTSIDER, label="school B"),
    Row(
        "hocba:seal_signing",
        school_a,
        everyone(403, principal=400, admin=400, outsider=404),
        label="empty form",
        method="POST",
    ),
]
