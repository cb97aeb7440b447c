"""The gradebook grid: subject books and homeroom books of a class, term by term.

`cell_save`, `grid_changes`, `row_edit` and `cell_history` serve both kinds of book: reversed
with `subject_pk` they address the subject's book, without it the class's homeroom book.
"""

from django.urls import path

from gradebook.views import grid, grid_history, grid_rows

SUBJECT = "classes/<int:class_pk>/subjects/<int:subject_pk>/"
HOMEROOM = "classes/<int:class_pk>/homeroom/"

urlpatterns = [
    path(SUBJECT, grid.grid_current, name="grid_current"),
    path(f"{SUBJECT}terms/<int:term>/", grid.grid, name="grid"),
    path(f"{SUBJECT}year/", grid.grid_year, name="grid_year"),
    path(f"{SUBJECT}terms/<int:term>/changes/", grid.grid_changes, name="grid_changes"),
    path(
        f"{SUBJECT}terms/<int:term>/students/<int:student_pk>/", grid_rows.row_edit, name="row_edit"
    ),
    path(f"{SUBJECT}cells/", grid.cell_save, name="cell_save"),
    path(f"{SUBJECT}students/<int:student_pk>/explain/", grid_history.explain_view, name="explain"),
    path(
        f"{SUBJECT}students/<int:student_pk>/history/",
        grid_history.cell_history,
        name="cell_history",
    ),
    path(HOMEROOM, grid.homeroom_current, name="homeroom_current"),
    path(f"{HOMEROOM}terms/<int:term>/", grid.homeroom, name="homeroom"),
    path(f"{HOMEROOM}terms/<int:term>/changes/", grid.grid_changes, name="grid_changes"),
    path(
        f"{HOMEROOM}terms/<int:term>/students/<int:student_pk>/",
        grid_rows.row_edit,
        name="row_edit",
    ),
    path(f"{HOMEROOM}cells/", grid.cell_save, name="cell_save"),
    path(
        f"{HOMEROOM}students/<int:student_pk>/history/",
        grid_history.cell_history,
        name="cell_history",
    ),
]
