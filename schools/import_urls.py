from django.urls import path

from schools import import_views

urlpatterns = [
    path("setup/import/", import_views.roster_import, name="roster_import"),
    path(
        "setup/import/templates/<slug:kind>.xlsx",
        import_views.roster_template,
        name="roster_template",
    ),
]
