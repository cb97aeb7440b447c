"""Excel round-trip of a class × subject × term gradebook, and the school admin's gradebook
settings and comment bank."""

from django.urls import path

from gradebook.views import excel, settings

BOOK = "classes/<int:class_pk>/subjects/<int:subject_pk>/terms/<int:term>/excel/"
BANK = "settings/comment-bank/"

urlpatterns = [
    path(BOOK, excel.excel_export, name="excel_export"),
    path(f"{BOOK}import/", excel.excel_import, name="excel_import"),
    path(f"{BOOK}import/confirm/", excel.excel_import_confirm, name="excel_import_confirm"),
    path("settings/", settings.gradebook_settings, name="settings"),
    path(BANK, settings.comment_bank, name="comment_bank"),
    path(f"{BANK}new/", settings.comment_phrase_create, name="comment_phrase_create"),
    path(f"{BANK}<int:pk>/", settings.comment_phrase_edit, name="comment_phrase_edit"),
    path(f"{BANK}<int:pk>/delete/", settings.comment_phrase_delete, name="comment_phrase_delete"),
]
