from django.urls import path

from transcripts.views import verify

app_name = "transcripts"

urlpatterns = [
    path("", verify.verify_home, name="verify_home"),
    path("package/<str:token>/", verify.package_job, name="verify_package_job"),
    path(
        "package/<str:token>/progress/",
        verify.package_job_progress,
        name="verify_package_job_progress",
    ),
    path("<str:code>/", verify.verify_code, name="verify_code"),
]
