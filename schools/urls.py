from django.urls import path

from schools import choice_views, views
from schools.import_urls import urlpatterns as import_urlpatterns
from schools.setup_urls import urlpatterns as setup_urlpatterns

app_name = "schools"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("setup/", views.setup_home, name="setup"),
    path("classes/<int:pk>/", views.class_detail, name="class_detail"),
    path(
        "classes/<int:pk>/subject-choices/",
        choice_views.class_subject_choices,
        name="class_subject_choices",
    ),
]
urlpatterns += import_urlpatterns
urlpatterns += setup_urlpatterns
