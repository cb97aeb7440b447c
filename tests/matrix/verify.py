"""Public verification: everyone, including anonymous visitors, gets 200. An unknown code is a
200 page saying "unknown code" (not a 404): the QR target answers with a verdict either way. A
package check's result page: 200 for anyone with its token (no login), 404 for an unknown one."""

import datetime

from django.utils import timezone

from tests.matrix import Row, everyone


def package_check(world: dict) -> dict:
    """A finished check of a package (its result kept for an hour)."""
    from transcripts.models import JobStatus, PackageVerification

    job = PackageVerification.objects.create(
        status=JobStatus.FINISHED,
        expires_at=timezone.now() + datetime.timedelta(hours=1),
        report={"problems": [["", "The file is not a ZIP package."]]},
    )
    return {"token": job.token}


UNKNOWN = {"token": "x" * 43}

ROWS = [
    Row("transcripts:verify_home", lambda w: {}, everyone(200, anonymous=200)),
    Row(
        "transcripts:verify_code",
        lambda w: {"code": "ZZZZZZZZZZ"},
        everyone(200, anonymous=200),
        label="unknown code",
    ),
    Row("transcripts:verify_package_job", package_check, everyone(200, anonymous=200)),
    Row(
        "transcripts:verify_package_job",
        lambda w: UNKNOWN,
        everyone(404, anonymous=404),
        label="unknown id",
    ),
    Row("transcripts:verify_package_job_progress", package_check, everyone(200, anonymous=200)),
    Row(
        "transcripts:verify_package_job_progress",
        lambda w: UNKNOWN,
        everyone(404, anonymous=404),
        label="unknown id",
    ),
]
