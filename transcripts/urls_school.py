"""The school's transcript screens, under /s/<code>/transcripts/."""

from django.urls import path

from transcripts.views import (
    detail,
    homeroom,
    jobs,
    packages,
    review,
    signing_settings,
    transfers,
)

app_name = "hocba"

urlpatterns = [
    path("", review.queue, name="queue"),
    path("sign/", review.sign, name="sign"),
    path("class/<int:class_pk>/", homeroom.class_transcripts, name="class"),
    path("class/<int:class_pk>/job/", homeroom.class_job, name="class_job"),
    path("<int:pk>/", detail.detail, name="detail"),
    path("<int:pk>/preview/", detail.preview, name="preview"),
    path("<int:pk>/v<int:number>.<str:kind>", detail.download, name="download"),
    path("<int:pk>/return/", detail.return_transcript, name="return"),
    path("<int:pk>/reopen/", detail.reopen_transcript, name="reopen"),
    path("jobs/<int:pk>/", jobs.job, name="job"),
    path("jobs/<int:pk>/progress/", jobs.job_progress, name="job_progress"),
    path("jobs/<int:pk>/retry/", jobs.job_retry, name="job_retry"),
    path("jobs/<int:pk>/resume/", jobs.job_resume, name="job_resume"),
    path("jobs/<int:pk>/cancel/", jobs.job_cancel, name="job_cancel"),
    path("jobs/<int:pk>/digests/", jobs.job_digests, name="job_digests"),
    path("jobs/<int:pk>/values/", jobs.job_values, name="job_values"),
    path("signing/", signing_settings.my_signing, name="my_signing"),
    path("signing/seal/", signing_settings.seal_signing, name="seal_signing"),
    path("packages/", packages.packages, name="packages"),
    path("packages/start/", packages.package_start, name="package_start"),
    path("packages/settings/", packages.province_settings, name="province_settings"),
    path("packages/<int:pk>/", packages.package, name="package"),
    path("packages/<int:pk>/progress/", packages.package_progress, name="package_progress"),
    path("packages/<int:pk>/retry/", packages.package_retry, name="package_retry"),
    path("packages/<int:pk>/cancel/", packages.package_cancel, name="package_cancel"),
    path("packages/<int:pk>/digests/", packages.package_digests, name="package_digests"),
    path("packages/<int:pk>/values/", packages.package_values, name="package_values"),
    path("packages/<int:pk>/download/", packages.package_download, name="package_download"),
    path("packages/<int:pk>/upload/", packages.package_upload, name="package_upload"),
    path("students/<int:student_pk>/record/", transfers.record, name="record"),
    path("students/<int:student_pk>/record.pdf", transfers.record_download, name="record_pdf"),
    path("students/<int:student_pk>/receive/", transfers.receive, name="receive"),
    path(
        "students/<int:student_pk>/received/<int:pk>/marks/",
        transfers.received_marks,
        name="received_marks",
    ),
    path(
        "students/<int:student_pk>/received/<int:pk>.<str:kind>",
        transfers.received_download,
        name="received_download",
    ),
]
