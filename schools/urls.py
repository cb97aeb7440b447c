from django.urls import path

from schools import views

app_name = "schools"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("setup/", views.setup_home, name="setup"),
    path("classes/<int:pk>/", views.class_detail, name="class_detail"),
]
