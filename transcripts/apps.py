from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TranscriptsConfig(AppConfig):
    name = "transcripts"
    verbose_name = _("Transcripts")

    def ready(self) -> None:
        # the deploy checks register themselves; workflow connects the mark_changing receiver
        from accounts import notifications
        from transcripts import checks, notices, workflow  # noqa: F401

        # The texts of the transcripts' notifications (accounts keeps the rows).
        notifications.TEXTS.update(notices.TEXTS)
