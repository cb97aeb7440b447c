"""The signing settings form: how a signer (or the school seal) signs from now on.

One form for every method; only the chosen method's fields are used. Before anything is stored
the form reads the certificate the way the method will reach it when signing — the PKCS#12 file
opened with its password, the token on the server opened with its PIN, the account at a remote
signing service, or the PEM the signing companion read from the USB token — and checks it as a
signature would (trust anchor, validity, key usage, holder). The password or PIN typed here is
used for that check only and never stored. Changing how you sign is as sensitive as signing, so
a fresh two-factor code is required too.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING, Any, cast

from cryptography import x509
from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from schools.models import School
from transcripts.forms import FreshCodeMixin, otp_field
from transcripts.models import CredentialKind, SignerRole
from transcripts.pipeline import check_certificate_for, opening_message
from transcripts.signing import services
from transcripts.signing.certificates import SigningRefused
from transcripts.signing.signers import Pkcs11Signer, Pkcs12Signer, SigningError
from transcripts.signing.sources import Certificates

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

logger = logging.getLogger(__name__)

#: A PKCS#12 file holds a key and a few certificates: a few kilobytes.
MAX_PKCS12_BYTES = 100 * 1024
#: A certificate and its chain in PEM.
MAX_PEM_CHARS = 64 * 1024


@dataclasses.dataclass(frozen=True)
class NewCredential:
    """A checked method, as :func:`transcripts.credentials.register_credential` stores it: the
    kind, the certificate (first) and its chain, and what the method needs besides the secret
    typed when signing."""

    kind: str
    certificates: list[x509.Certificate]
    pkcs12: bytes = b""
    config: dict[str, str] = dataclasses.field(default_factory=dict)
    secrets: dict[str, str] = dataclasses.field(default_factory=dict)


def usable_services() -> list[services.RemoteService]:
    """The configured remote signing services (a misconfigured one is left out, and logged)."""
    usable = []
    for name, _label in services.choices():
        try:
            usable.append(services.service(name))
        except SigningError as exc:
            logger.warning("signing service %s is not usable: %s", name, exc)
    return usable


def method_choices(*, seal: bool, remote: bool) -> list[tuple[str, StrOrPromise]]:
    """The methods offered on this server; the school seal's usual one (a USB token kept at the
    school, through the signing companion) comes first on its page."""
    offered = [CredentialKind.PKCS12]
    if settings.SIGNING_PKCS11_LIBRARIES:
        offered.append(CredentialKind.PKCS11)
    if remote:
        offered.append(CredentialKind.REMOTE)
    if seal:
        offered.insert(0, CredentialKind.COMPANION)
    else:
        offered.append(CredentialKind.COMPANION)
    return [(kind.value, kind.label) for kind in offered]


def account_field_name(service: str, field: str) -> str:
    """The form field of one account field of one service (services may share field names)."""
    return f"{service}__{field}"


def _secret_input() -> forms.PasswordInput:
    return forms.PasswordInput(attrs={"autocomplete": "off"})


class SigningMethodForm(FreshCodeMixin, forms.Form):
    """Choose a signing method for ``holder`` (None: the school seal) at ``school``; ``user``
    is who is changing it (their two-factor code), ``role`` the signing role whose certificate
    check applies ("homeroom", "principal" or "seal"). When valid, :attr:`new_credential` is
    the checked method, ready to register."""

    method = forms.ChoiceField(label=gettext_lazy("Signing method"), widget=forms.RadioSelect)
    pkcs12_file = forms.FileField(
        label=gettext_lazy("Certificate file (.p12 or .pfx)"),
        required=False,
        widget=forms.FileInput(attrs={"accept": ".p12,.pfx,application/x-pkcs12"}),
    )
    pkcs12_password = forms.CharField(
        label=gettext_lazy("Password of the certificate file"),
        required=False,
        strip=False,
        widget=_secret_input(),
        help_text=gettext_lazy(
            "Used only now, to check that the file opens; it is never stored. You type it "
            "again each time you sign."
        ),
    )
    pkcs11_library = forms.ChoiceField(label=gettext_lazy("PKCS#11 library"), required=False)
    pkcs11_token = forms.CharField(
        label=gettext_lazy("Token label"), required=False, max_length=100
    )
    pkcs11_key = forms.CharField(
        label=gettext_lazy("Key label"),
        required=False,
        max_length=100,
        help_text=gettext_lazy("The label of the signing key and its certificate on the token."),
    )
    pkcs11_pin = forms.CharField(
        label=gettext_lazy("PIN of the token"),
        required=False,
        strip=False,
        widget=_secret_input(),
        help_text=gettext_lazy(
            "Used once, to read the certificate from the token; it is never stored."
        ),
    )
    service = forms.ChoiceField(label=gettext_lazy("Signing service"), required=False)
    certificate_pem = forms.CharField(
        required=False, max_length=MAX_PEM_CHARS, widget=forms.HiddenInput
    )
    pasted_pem = forms.CharField(
        label=gettext_lazy("Certificate exported from the token (PEM)"),
        required=False,
        max_length=MAX_PEM_CHARS,
        widget=forms.Textarea(attrs={"rows": 4, "class": "font-monospace small"}),
        help_text=gettext_lazy("It begins with -----BEGIN CERTIFICATE-----."),
    )
    otp = otp_field()
    spend_later = True  # spent once the certificate opened (FreshCodeMixin)

    def __init__(
        self, *args, user: User, school: School, holder: User | None, role: str, **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.school = school
        self.holder = holder
        self.role = role
        self.new_credential: NewCredential | None = None
        self.services = usable_services()
        self.offered_methods = method_choices(
            seal=role == SignerRole.SEAL, remote=bool(self.services)
        )
        cast(forms.ChoiceField, self.fields["method"]).choices = self.offered_methods
        offered = [value for value, _label in self.offered_methods]
        if self.initial.get("method") not in offered:
            self.initial["method"] = offered[0]
        cast(forms.ChoiceField, self.fields["pkcs11_library"]).choices = [
            (path, path) for path in settings.SIGNING_PKCS11_LIBRARIES
        ]
        cast(forms.ChoiceField, self.fields["service"]).choices = [
            (s.name, s.label) for s in self.services
        ]
        for service in self.services:
            for name, field in service.account_fields.items():
                self.fields[account_field_name(service.name, name)] = forms.CharField(
                    label=field.label,
                    help_text=field.help_text,
                    required=False,
                    max_length=500,
                    strip=not field.secret,
                    widget=_secret_input() if field.secret else forms.TextInput,
                )

    # --- for the template ----------------------------------------------------------------------

    @property
    def methods(self) -> list[tuple[str, StrOrPromise]]:
        return list(self.offered_methods)

    def service_sections(self) -> list[tuple[str, list[forms.BoundField]]]:
        """(service name, its account fields) for each configured service."""
        return [
            (s.name, [self[account_field_name(s.name, name)] for name in s.account_fields])
            for s in self.services
        ]

    # --- validation ------------------------------------------------------------------------------

    def clean_pkcs12_file(self) -> UploadedFile | None:
        upload = self.cleaned_data.get("pkcs12_file")
        if upload and upload.size > MAX_PKCS12_BYTES:
            raise forms.ValidationError(
                _(
                    "A certificate file is at most 100 KB; this one is larger. Choose the .p12 "
                    "or .pfx file."
                )
            )
        return upload

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        method = data.get("method")
        if method:
            self._require(method, data)
        if self.errors:  # a wrong code (or a missing field): nothing is opened
            return data
        try:
            new = self._read(data["method"], data)  # valid: there are no errors
            check_certificate_for(
                actor=self.holder or self.user,
                school=self.school,
                role=self.role,
                signer=Certificates(new.certificates[0], new.certificates[1:]),
            )
        except SigningRefused as exc:
            raise forms.ValidationError(str(exc)) from exc
        except SigningError as exc:
            raise forms.ValidationError(opening_message(exc)) from exc
        if self.spend_code():  # the certificate opened: now the code is used up
            self.new_credential = new
        return data

    def _require(self, method: str, data: dict) -> None:
        """The chosen method's fields that must be filled in."""
        needed = {
            CredentialKind.PKCS12: ["pkcs12_file", "pkcs12_password"],
            CredentialKind.PKCS11: ["pkcs11_library", "pkcs11_token", "pkcs11_key", "pkcs11_pin"],
            CredentialKind.REMOTE: ["service"],
            CredentialKind.COMPANION: [],
        }[CredentialKind(method)]
        if method == CredentialKind.REMOTE and data.get("service"):
            service = self._service(data["service"])
            needed += [
                account_field_name(service.name, name)
                for name, field in service.account_fields.items()
                if field.required
            ]
        for name in needed:
            if name not in self.errors and not data.get(name):
                self.add_error(name, self.fields[name].error_messages["required"])
        if method == CredentialKind.COMPANION and not (
            data.get("certificate_pem", "").strip() or data.get("pasted_pem", "").strip()
        ):
            self.add_error(
                None,
                _(
                    "Read the certificates on your USB token first and choose yours (or paste "
                    "the certificate)."
                ),
            )

    def _service(self, name: str) -> services.RemoteService:
        return next(s for s in self.services if s.name == name)

    def _read(self, method: str, data: dict) -> NewCredential:
        """The chosen method's certificate and chain, read the way signing will reach them;
        SigningError (with a message for the user) when they cannot be read."""
        if method == CredentialKind.PKCS12:
            return read_pkcs12(data["pkcs12_file"].read(), data["pkcs12_password"])
        if method == CredentialKind.PKCS11:
            return read_token(
                library=data["pkcs11_library"],
                token=data["pkcs11_token"],
                key=data["pkcs11_key"],
                pin=data["pkcs11_pin"],
            )
        if method == CredentialKind.REMOTE:
            service = self._service(data["service"])
            plain: dict[str, str] = {}
            secret: dict[str, str] = {}
            for name, field in service.account_fields.items():
                value = data.get(account_field_name(service.name, name), "")
                if value:
                    (secret if field.secret else plain)[name] = value
            return read_service(service, plain=plain, secrets=secret)
        return read_pem(data.get("certificate_pem", "").strip() or data["pasted_pem"].strip())


def read_pkcs12(content: bytes, password: str) -> NewCredential:
    signer = Pkcs12Signer.from_bytes(content, password)
    return NewCredential(CredentialKind.PKCS12, [signer.certificate, *signer.chain], pkcs12=content)


def read_token(*, library: str, token: str, key: str, pin: str) -> NewCredential:
    """The certificate stored next to ``key`` on the token; the session is closed at once."""
    signer = Pkcs11Signer(library, token, pin, key)
    try:
        certificates = [signer.certificate, *signer.chain]
    finally:
        signer.close()
    return NewCredential(
        CredentialKind.PKCS11, certificates, config={"lib": library, "token": token, "key": key}
    )


def read_service(
    service: services.RemoteService, *, plain: dict[str, str], secrets: dict[str, str]
) -> NewCredential:
    """The certificate of this account at the service (which is asked for it now)."""
    source = service.source(account={**plain, **secrets}, secret="")
    try:
        certificates = [source.certificate, *source.chain]
    finally:
        source.close()
    return NewCredential(
        CredentialKind.REMOTE,
        certificates,
        config={"service": service.name, **plain},
        secrets=secrets,
    )


def read_pem(text: str) -> NewCredential:
    """The certificate the signing companion read from the USB token (then, maybe, its chain)."""
    try:
        certificates = x509.load_pem_x509_certificates(text.encode())
    except ValueError as exc:
        raise SigningError(_("This is not a certificate in PEM format.")) from exc
    return NewCredential(CredentialKind.COMPANION, certificates)
