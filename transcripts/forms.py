"""Forms of the transcript screens: the signing confirmation (certificate passwords plus a fresh
two-factor code), returning and reopening with a comment."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, validate_totp_code
from allauth.mfa.utils import decrypt
from django import forms
from django.core.cache import cache
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from schools.models import School, Student
from transcripts import credentials
from transcripts.models import JobStep, PackageKind, SigningCredential
from transcripts.packages.uploads import host_refusal

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


def _authenticator(user: User) -> Authenticator:
    authenticator = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if authenticator is None:
        raise forms.ValidationError(
            _("Set up two-factor authentication before signing transcripts.")
        )
    return authenticator


def _not_valid() -> forms.ValidationError:
    return forms.ValidationError(_("That code is not valid (or was already used)."))


def check_fresh_totp(user: User, code: str) -> str:
    """The user's current two-factor code, not used before (allauth keeps the used ones), now
    used up; or a ValidationError. Signing anything needs it."""
    code = code.strip()
    if not TOTP(_authenticator(user)).validate_code(code):
        raise _not_valid()
    return code


def peek_fresh_totp(user: User, code: str) -> str:
    """As :func:`check_fresh_totp`, without using the code up: a form whose action needs a
    certificate password checks the code with this first, opens the certificate only with a
    valid code (no password guessing without one), and spends the code once the certificate has
    opened (:meth:`FreshCodeMixin.spend_code`). A wrong password so leaves the code valid for an
    immediate retry, and a wrong code never reaches the password."""
    code = code.strip()
    totp = TOTP(_authenticator(user))
    secret = decrypt(totp.instance.data["secret"])
    if not validate_totp_code(secret, code) or cache.get(totp._get_used_cache_key(code)):
        raise _not_valid()
    return code


def otp_field() -> forms.CharField:
    return forms.CharField(
        label=gettext_lazy("Two-factor code from your authenticator app"),
        max_length=6,
        min_length=6,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9]{6}"}
        ),
    )


def seal_password_field() -> forms.CharField:
    return forms.CharField(
        label=gettext_lazy("The school seal's password or PIN"),
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )


class FreshCodeMixin:
    """A form with an ``otp`` field and a ``user``: the code must be the user's, fresh. With
    ``spend_later`` (a form whose action opens a certificate with a typed password) the form
    only checks the code; the caller spends it with :meth:`spend_code` once the certificate has
    opened, in the transaction that records the action."""

    user: User
    cleaned_data: dict[str, Any]
    fields: dict[str, forms.Field]
    spend_later = False

    def clean_otp(self) -> str:
        if self.spend_later:
            return peek_fresh_totp(self.user, self.cleaned_data["otp"])
        return check_fresh_totp(self.user, self.cleaned_data["otp"])

    def spend_code(self) -> bool:
        """Use up the checked code; False (the form then carries the error) when it was used
        meanwhile, by another request. A form without a code field has nothing to spend."""
        if "otp" not in self.fields:
            return True
        try:
            check_fresh_totp(self.user, self.cleaned_data["otp"])
        except forms.ValidationError as error:
            self.add_error("otp", error)  # type: ignore[attr-defined]  # a Form's method
            return False
        return True


class SealSecretMixin:
    """A form with a ``seal_password`` field kept only when the school seal's method needs a
    typed secret (a certificate file, a token on the server): a phone confirmation or the USB
    token asks its holder itself. ``seal_method`` says how the seal will sign."""

    fields: dict[str, forms.Field]
    cleaned_data: dict[str, Any]

    def _seal_secret(self, school: School | None) -> None:
        credential = (
            credentials.active_credential(school=school, user=None) if school is not None else None
        )
        self.seal_method = credentials.method_description(credential) if credential else ""
        if credential is not None and not credentials.needs_secret(credential):
            del self.fields["seal_password"]

    def seal_secret(self) -> str:
        return self.cleaned_data.get("seal_password", "")


class SignForm(FreshCodeMixin, forms.Form):
    """Confirms a batch signature: the password / PIN of each certificate whose method needs one
    (never stored; a phone confirmation or the USB token asks the signer itself) and the
    signer's current two-factor code."""

    spend_later = True  # spent once the certificate opened (FreshCodeMixin)

    password = forms.CharField(
        label=gettext_lazy("Your certificate password or PIN"),
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
        required=False,
    )
    seal_password = seal_password_field()
    otp = otp_field()

    def __init__(
        self, *args, user: User, steps: list[str], school: School | None = None, **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.steps = steps
        #: step → (credential or None, how it signs), for the page
        self.methods: dict[str, tuple[SigningCredential | None, str]] = {}
        personal = [s for s in steps if s in (JobStep.HOMEROOM, JobStep.PRINCIPAL)]
        self._secret_field("password", personal, school)
        self._secret_field("seal_password", [s for s in steps if s == JobStep.SEAL], school)
        if not any(step != JobStep.CONFIRM for step in steps):
            del self.fields["otp"]  # confirming the data signs nothing

    def _secret_field(self, name: str, steps: list[str], school: School | None) -> None:
        """Keep the field only when a step's method needs a typed secret, labelled for it."""
        needed = False
        for step in steps:
            credential = None
            if school is not None:
                holder = None if step == JobStep.SEAL else self.user
                credential = credentials.active_credential(school=school, user=holder)
            if credential is None:
                needed = True  # the start refuses with "no certificate registered"
                self.methods[step] = (None, "")
                continue
            self.methods[step] = (credential, credentials.method_description(credential))
            if credentials.needs_secret(credential):
                needed = True
                if step != JobStep.SEAL:
                    self.fields[name].label = credentials.secret_label(credential)
        if needed:
            self.fields[name].required = True
        else:
            del self.fields[name]

    def method_lines(self) -> list[tuple[StrOrPromise, str]]:
        """(step label, how it signs) for the confirmation page."""
        return [(JobStep(step).label, text) for step, (_c, text) in self.methods.items() if text]

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


class ExportForm(FreshCodeMixin, SealSecretMixin, forms.Form):
    """Start an export: what to send, and the seal's password (where its method needs one) and
    a fresh two-factor code (the package's manifest is signed with the school seal)."""

    spend_later = True  # spent once the certificate opened (FreshCodeMixin)

    kind = forms.ChoiceField(
        label=gettext_lazy("What to send"),
        choices=PackageKind.choices,
        initial=PackageKind.FULL,
        widget=forms.RadioSelect,
    )
    student_code = forms.CharField(
        label=gettext_lazy("Student code (for one student)"), required=False, max_length=20
    )
    only_final = forms.BooleanField(
        label=gettext_lazy("Send only the final transcripts, even if some are not final yet"),
        required=False,
    )
    seal_password = seal_password_field()
    otp = otp_field()

    def __init__(self, *args, user: User, school: School, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.school = school
        self.student: Student | None = None
        self._seal_secret(school)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        code = (data.get("student_code") or "").strip()
        if data.get("kind") == PackageKind.SINGLE:
            self.student = Student.objects.filter(school=self.school, student_code=code).first()
            if self.student is None:
                self.add_error(
                    "student_code",
                    _("No student of this school has the code “%(code)s”.") % {"code": code}
                    if code
                    else _("Give the student's code."),
                )
        return data


class SealForm(FreshCodeMixin, SealSecretMixin, forms.Form):
    """Start a failed export again: the seal's password (where its method needs one) and a fresh
    two-factor code again (they are never kept)."""

    spend_later = True  # spent once the certificate opened (FreshCodeMixin)

    seal_password = seal_password_field()
    otp = otp_field()

    def __init__(self, *args, user: User, school: School | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self._seal_secret(school)


class EndpointForm(FreshCodeMixin, forms.Form):
    """The school's own address of the Department's upload service and its access token, and a
    fresh two-factor code: the address decides where the school's transcripts go. The host must
    be one of the Department's (PROVINCE_UPLOAD_HOSTS); a new address drops the stored token."""

    url = forms.URLField(
        label=gettext_lazy("Upload address"),
        max_length=500,
        assume_scheme="https",
        help_text=gettext_lazy("Given by the Department, e.g. https://hocba.sogd.example/api/v1"),
    )
    token = forms.CharField(
        label=gettext_lazy("Access token"),
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
        help_text=gettext_lazy(
            "Leave empty to keep the stored token. A new address removes the stored token: "
            "give the token for the new address here."
        ),
    )
    clear_token = forms.BooleanField(label=gettext_lazy("Remove the stored token"), required=False)
    otp = otp_field()

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        refusal = host_refusal(url)
        if refusal:
            raise forms.ValidationError(refusal)
        return url

    def clean_otp(self) -> str:
        if self.errors:  # the form is refused anyway: do not spend the code
            return self.cleaned_data["otp"]
        return super().clean_otp()

    def token_change(self) -> str | None:
        """None keeps the stored token; "" removes it."""
        if self.cleaned_data["clear_token"]:
            return ""
        return self.cleaned_data["token"] or None


class UploadForm(FreshCodeMixin, forms.Form):
    """Upload a package to the Department (the first time or again): a fresh two-factor code."""

    otp = otp_field()

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
