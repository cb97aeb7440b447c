from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

urlpatterns = [
    path("", include("schools.home_urls")),
    path("accounts/", include("allauth.urls")),
    path("notifications/", include("accounts.urls")),
    # Public: the language switch must work on the login page too.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("s/<str:code>/", include("schools.urls")),
    path("s/<str:code>/gradebook/", include("gradebook.urls")),
    path("s/<str:code>/transcripts/", include("transcripts.urls_school")),
    path("verify/", include("transcripts.urls")),
    # The provincial Department's read-only dashboard (docs/department.md).
    path("dept/<str:code>/", include("department.urls")),
    path("django-admin/", admin.site.urls),
]

# The product's own error pages (config/views.py); the 500 page is Django's handler with the
# static templates/500.html.
handler400 = "config.views.bad_request"
handler403 = "config.views.permission_denied"
handler404 = "config.views.page_not_found"
