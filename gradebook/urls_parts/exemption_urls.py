"""Exemptions, under /s/<code>/gradebook/ in the `gradebook` namespace."""

from django.urls import path

from gradebook.views import exemptions

urlpatterns = [
    path("exemptions/", exemptions.exemption_list, name="exemptions"),
    path("classes/<int:class_pk>/exemptions/new/", exemptions.exemption_new, name="exemption_new"),
    path("exemptions/<int:pk>/decide/", exemptions.exemption_decide, name="exemption_decide"),
]
