"""The site's root: the user's school, or the choice of one (included by config/urls.py at "",
outside the school's namespace, so that its name stays "home")."""

from django.urls import path

from schools import views

urlpatterns = [
    path("", views.home, name="home"),
]
