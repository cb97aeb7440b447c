"""The school admin's set-up pages, under /s/<code>/setup/ in the `schools` namespace."""

from django.urls import path

from schools import setup_views as v

urlpatterns = [
    path("setup/school/", v.school_details, name="setup_school"),
    path("setup/years/", v.years, name="setup_years"),
    path("setup/years/new/", v.year_create, name="setup_year_create"),
    path("setup/years/<int:pk>/", v.year_edit, name="setup_year_edit"),
    path("setup/years/<int:pk>/make-current/", v.year_make_current, name="setup_year_make_current"),
    path("setup/years/<int:pk>/curriculum/", v.curriculum, name="setup_curriculum"),
    path(
        "setup/years/<int:pk>/curriculum/add/",
        v.curriculum_entry_create,
        name="setup_curriculum_entry_create",
    ),
    path(
        "setup/years/<int:pk>/curriculum/load-defaults/",
        v.curriculum_load_defaults,
        name="setup_curriculum_load_defaults",
    ),
    path("setup/curriculum/<int:pk>/", v.curriculum_entry_edit, name="setup_curriculum_entry_edit"),
    path("setup/classes/", v.classes, name="setup_classes"),
    path("setup/classes/new/", v.class_create, name="setup_class_create"),
    path("setup/classes/<int:pk>/", v.class_edit, name="setup_class_edit"),
    path("setup/classes/<int:pk>/renumber/", v.class_renumber, name="setup_class_renumber"),
    path("setup/subjects/", v.subjects, name="setup_subjects"),
    path("setup/subjects/new/", v.subject_create, name="setup_subject_create"),
    path("setup/subjects/<int:pk>/", v.subject_edit, name="setup_subject_edit"),
    path("setup/teachers/", v.teachers, name="setup_teachers"),
    path("setup/teachers/new/", v.teacher_create, name="setup_teacher_create"),
    path("setup/teachers/add-existing/", v.teacher_add_existing, name="setup_teacher_add_existing"),
    path("setup/teachers/<int:pk>/", v.teacher_edit, name="setup_teacher_edit"),
    path(
        "setup/teachers/<int:pk>/deactivate/", v.teacher_deactivate, name="setup_teacher_deactivate"
    ),
    path("setup/assignments/", v.assignments, name="setup_assignments"),
    path("setup/assignments/new/", v.assignment_create, name="setup_assignment_create"),
    path("setup/assignments/<int:pk>/delete/", v.assignment_delete, name="setup_assignment_delete"),
    path("setup/students/", v.students, name="setup_students"),
    path("setup/students/new/", v.student_create, name="setup_student_create"),
    path("setup/students/<int:pk>/", v.student_edit, name="setup_student_edit"),
    path("setup/students/<int:pk>/transfer/", v.student_transfer, name="setup_student_transfer"),
    path("setup/students/<int:pk>/move/", v.student_move, name="setup_student_move"),
]
