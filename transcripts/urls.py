from django.urls import path

from transcripts.views import verify

app_name = "transcripts"

urlpatterns = [
    path("", verify.verify_home, name="verify_home"),
    path("<str:code>/", verify.verify_code, name="verify_code"),
]
