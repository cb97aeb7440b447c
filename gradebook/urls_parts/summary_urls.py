"""The homeroom class summary and the completion dashboards, under /s/<code>/gradebook/."""

from django.urls import path

from gradebook.views import completion, summary, year_end

urlpatterns = [
    path("classes/<int:class_pk>/summary/", summary.class_summary, name="class_summary"),
    path(
        "classes/<int:class_pk>/summary.xlsx",
        summary.class_summary_xlsx,
        name="class_summary_xlsx",
    ),
    path("completion/", completion.school_completion, name="completion"),
    path("year-end/", year_end.year_end, name="year_end"),
    path(
        "classes/<int:class_pk>/completion/",
        completion.class_completion,
        name="class_completion",
    ),
]
