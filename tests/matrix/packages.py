"""Packages for the Department (hocba:package*): for the school admin and the principal only.

- Another school's package is a 404; the outsider (every role at school B) reaches B's.
- POST-only URLs answer a GET with 405; an empty POST is a form error (400) for those who may
  (an upload without its fresh two-factor code too).
- The download of a package that has no file yet is a 404 for those who may see it.
"""

import datetime

from django.utils import timezone

from tests.matrix import Row, everyone, school_a, school_b
from tests.matrix.transcripts import _matrix_certificate_pem
from transcripts.models import (
    BatchStatus,
    CredentialKind,
    JobStatus,
    PackageKind,
    SigningBatch,
    SigningCredential,
    TranscriptPackage,
)

EXPORTERS = everyone(403, principal=200, admin=200, outsider=404)
ONLY_OUTSIDER = everyone(404, outsider=200)
#: Another school's package under school A's address: the role is checked first (a teacher of
#: A gets 403 for every package page of A), then the package is not found.
ELSEWHERE = everyone(403, principal=404, admin=404, outsider=404)
POST_ONLY = everyone(405)


def package_of(w: dict, school) -> TranscriptPackage:
    return TranscriptPackage.objects.get_or_create(
        school=school,
        year=school.current_year(),
        kind=PackageKind.FULL,
        defaults={"created_by": w["users"]["admin"] if school == w["school_a"] else None},
    )[0]


def own_package(w: dict) -> dict:
    return {**school_a(w), "pk": package_of(w, w["school_a"]).pk}


def school_b_package(w: dict) -> dict:
    return {**school_a(w), "pk": package_of(w, w["school_b"]).pk}


def school_b_package_at_b(w: dict) -> dict:
    return {**school_b(w), "pk": package_of(w, w["school_b"]).pk}


def sealing_package(w: dict) -> dict:
    """The admin's export waiting for the school seal's USB token (the signing companion)."""
    school = w["school_a"]
    package = TranscriptPackage.objects.create(
        school=school,
        year=school.current_year(),
        kind=PackageKind.FULL,
        created_by=w["users"]["admin"],
        status=JobStatus.WAITING,
    )
    credential = SigningCredential.objects.create(
        school=school, kind=CredentialKind.COMPANION, certificate_pem=_matrix_certificate_pem()
    )
    SigningBatch.objects.create(
        package=package,
        role="seal",
        credential=credential,
        method=CredentialKind.COMPANION,
        status=BatchStatus.WAITING,
        certificate_pem=credential.certificate_pem,
        documents=[{"digest": "00" * 32, "state": {}, "value": None}],
        expires_at=timezone.now() + datetime.timedelta(minutes=10),
    )
    return {**school_a(w), "pk": package.pk}


def reads(name: str) -> list[Row]:
    return [
        Row(name, own_package, EXPORTERS, label="own school's package"),
        Row(name, school_b_package, ELSEWHERE, label="other school's package"),
        Row(name, school_b_package_at_b, ONLY_OUTSIDER, label="school B's, at school B"),
    ]


FORM_ERROR = everyone(403, principal=400, admin=400, outsider=404)

ROWS = [
    Row("hocba:packages", school_a, EXPORTERS),
    Row("hocba:packages", school_b, ONLY_OUTSIDER, label="school B"),
    Row("hocba:package_start", school_a, POST_ONLY),
    Row("hocba:package_start", school_a, FORM_ERROR, label="empty form", method="POST"),
    Row("hocba:province_settings", school_a, EXPORTERS),
    Row("hocba:province_settings", school_a, FORM_ERROR, label="empty form", method="POST"),
    *reads("hocba:package"),
    *reads("hocba:package_progress"),
    Row("hocba:package_retry", own_package, POST_ONLY, label="own school's package"),
    Row(
        "hocba:package_retry",
        own_package,
        FORM_ERROR,
        label="own school's package, empty form",
        method="POST",
    ),
    Row(
        "hocba:package_retry",
        school_b_package,
        ELSEWHERE,
        label="other school's package",
        method="POST",
    ),
    Row(
        "hocba:package_download",
        own_package,
        everyone(403, principal=404, admin=404, outsider=404),
        label="own school's package, not built",
    ),
    Row("hocba:package_download", school_b_package, ELSEWHERE, label="other school's package"),
    Row("hocba:package_upload", own_package, POST_ONLY, label="own school's package"),
    Row(
        "hocba:package_upload",
        own_package,
        FORM_ERROR,
        label="own school's package, no code",
        method="POST",
    ),
    Row(
        "hocba:package_upload",
        school_b_package,
        ELSEWHERE,
        label="other school's package",
        method="POST",
    ),
    # A package waiting for its seal: only its starter (the admin here) cancels it, reads the
    # digest the USB token signs and posts the value back (an empty body is unreadable).
    Row("hocba:package_cancel", own_package, POST_ONLY, label="own school's package"),
    Row(
        "hocba:package_cancel",
        sealing_package,
        everyone(403, principal=404, admin=302, outsider=404),
        label="waiting for the seal's USB token",
        method="POST",
    ),
    Row(
        "hocba:package_cancel",
        school_b_package,
        ELSEWHERE,
        label="other school's package",
        method="POST",
    ),
    Row(
        "hocba:package_digests",
        sealing_package,
        everyone(403, principal=404, admin=200, outsider=404),
        label="waiting for the seal's USB token",
    ),
    Row(
        "hocba:package_digests",
        own_package,
        everyone(403, principal=404, admin=404, outsider=404),
        label="not waiting",
    ),
    Row("hocba:package_digests", school_b_package, ELSEWHERE, label="other school's package"),
    Row("hocba:package_values", sealing_package, POST_ONLY, label="waiting for the seal"),
    Row(
        "hocba:package_values",
        sealing_package,
        everyone(403, principal=404, admin=400, outsider=404),
        label="waiting for the seal's USB token, empty body",
        method="POST",
    ),
    Row(
        "hocba:package_values",
        school_b_package,
        ELSEWHERE,
        label="other school's package",
        method="POST",
    ),
]
