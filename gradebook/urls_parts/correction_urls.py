"""Locks, submission and corrections, under /s/<code>/gradebook/ in the `gradebook` namespace."""

from django.urls import path

from gradebook.views import corrections, locks

urlpatterns = [
    path(
        "classes/<int:class_pk>/subjects/<int:subject_pk>/terms/<int:term>/submit/",
        locks.submit,
        name="submit",
    ),
    path("locks/", locks.lock_list, name="locks"),
    path("locks/new/", locks.lock_create, name="lock_create"),
    path("locks/date/", locks.lock_date, name="lock_date"),
    path("locks/<int:pk>/unlock/", locks.unlock, name="unlock"),
    path("corrections/", corrections.correction_list, name="corrections"),
    path("corrections/new/", corrections.correction_new, name="correction_new"),
    path("corrections/<int:pk>/decide/", corrections.correction_decide, name="correction_decide"),
]
