from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GradebookConfig(AppConfig):
    name = "gradebook"
    verbose_name = _("Gradebook")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from accounts import notifications
        from gradebook import notices, teacher_home
        from gradebook.curriculum import regular_marks_per_term
        from gradebook.ledger import register_sqlite_guard
        from schools import views
        from schools.tables import CurriculumTable

        # The curriculum set-up page of schools shows each subject's regular marks per term,
        # which is the gradebook's rule: it is handed over here, schools importing nothing of
        # the gradebook.
        CurriculumTable.regular_marks_per_term = staticmethod(regular_marks_per_term)
        # Likewise the texts of the gradebook's notifications (accounts keeps the rows) and the
        # teacher's books on the school's dashboard (a page of schools).
        notifications.TEXTS.update(notices.TEXTS)
        views.DASHBOARD_PARTS.append(teacher_home.dashboard_books)
        # SQLite's ledger triggers call this function (gradebook/migrations/0004).
        connection_created.connect(register_sqlite_guard, dispatch_uid="sodiem-ledger-guard")
