"""Forms of the transcript screens: the signing confirmation (certificate passwords plus a fresh
two-factor code), returning and reopening with a comment."""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from transcripts.models import JobStep


class SignForm(forms.Form):
    """Confirms a batch signature: each certificate's password / PIN (never stored) and the
    signer's current two-factor code."""

    password = forms.CharField(
        label=gettext_lazy("Your certificate password or PIN"),
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
        required=False,
    )
    seal_password = forms.CharField(
        label=gettext_lazy("The school seal's password or PIN"),
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
        required=False,
    )
    otp = forms.CharField(
        label=gettext_lazy("Two-factor code from your authenticator app"),
        max_length=6,
        min_length=6,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9]{6}"}
        ),
    )

    def __init__(self, *args, user: User, steps: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.steps = steps
        self.fields["password"].required = any(
            step in (JobStep.HOMEROOM, JobStep.PRINCIPAL) for step in steps
        )
        self.fields["seal_password"].required = JobStep.SEAL in steps
        if not self.fields["password"].required:
            del self.fields["password"]
        if not self.fields["seal_password"].required:
            del self.fields["seal_password"]
        if not any(step != JobStep.CONFIRM for step in steps):
            del self.fields["otp"]  # confirming the data signs nothing

    def clean_otp(self) -> str:
        code = self.cleaned_data["otp"].strip()
        authenticator = Authenticator.objects.filter(
            user=self.user, type=Authenticator.Type.TOTP
        ).first()
        if authenticator is None:
            raise forms.ValidationError(
                _("Set up two-factor authentication before signing transcripts.")
            )
        if not TOTP(authenticator).validate_code(code):
            raise forms.ValidationError(_("That code is not valid (or was already used)."))
        return code

    def secrets(self) -> dict[str, str]:
        data = self.cleaned_data
        return {
            step: data.get("seal_password" if step == JobStep.SEAL else "password", "")
            for step in self.steps
            if step != JobStep.CONFIRM
        }


class CommentForm(forms.Form):
    comment = forms.CharField(
        label=gettext_lazy("Comment"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )
