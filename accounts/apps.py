from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from django import forms

        from config.text import validate_storable_text

        # Every form's text field, ours, allauth's and the admin's, refuses control characters
        # (docs/security.md): one place, so that a new form cannot forget it.
        forms.CharField.default_validators = [validate_storable_text]
