"""A person's notifications (accounts/notifications.py), outside any school: included by
config/urls.py at "notifications/"."""

from django.urls import path

from accounts import views

urlpatterns = [
    path("", views.notifications, name="notifications"),
    path("<int:pk>/open/", views.notification_open, name="notification_open"),
    path("read/", views.notifications_read_all, name="notifications_read_all"),
]
