from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

urlpatterns = [
    path("", include("schools.home_urls")),
    path("accounts/", include("allauth.urls")),
    # Public: the language switch must work on the login page too.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("s/<str:code>/", include("schools.urls")),
    path("s/<str:code>/gradebook/", include("gradebook.urls")),
    path("s/<str:code>/transcripts/", include("transcripts.urls_school")),
    path("verify/", include("transcripts.urls")),
    path("django-admin/", admin.site.urls),
]
