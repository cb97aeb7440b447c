"""The site's root: the user's school, or the choice of one, and the person's invitations to
join a school (included by config/urls.py at "", outside the school's namespace, so that its
names stay "home" and "invitations")."""

from django.urls import path

from schools import views

urlpatterns = [
    path("", views.home, name="home"),
    # A person's invitations to join a school's staff (schools/invitations.py): theirs only.
    path("invitations/", views.invitations, name="invitations"),
    path("invitations/<int:pk>/accept/", views.invitation_accept, name="invitation_accept"),
    path("invitations/<int:pk>/decline/", views.invitation_decline, name="invitation_decline"),
]
