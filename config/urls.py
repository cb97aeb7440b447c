from django.contrib import admin
from django.urls import include, path

from schools import views as school_views

urlpatterns = [
    path("", school_views.home, name="home"),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("s/<str:code>/", include("schools.urls")),
    path("django-admin/", admin.site.urls),
]
