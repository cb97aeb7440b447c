"""The Department's read-only pages (config/urls.py mounts them at dept/<code>/)."""

from django.urls import path

from department import views

app_name = "department"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("export.xlsx", views.dashboard_xlsx, name="dashboard_xlsx"),
    path("schools/<str:school_code>/", views.school, name="school"),
]
