"""The summer after the year (re-assessment, conduct after training), under /s/<code>/gradebook/."""

from django.urls import path

from gradebook.views import summer

urlpatterns = [
    path("classes/<int:class_pk>/summer/", summer.summer, name="summer"),
]
