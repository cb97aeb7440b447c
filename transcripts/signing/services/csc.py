"""The Cloud Signature Consortium API (v2, and v1.0.4 which many providers still run).

A service in ``settings.SIGNING_SERVICES``::

    {"adapter": "csc", "label": "…", "base_url": "https://ca.example.vn/csc/v1",
     "api_version": "v1",            # "v1" | "v2"; default: the last segment of base_url, else v2
     "token": "…",                   # optional: a static bearer token for this deployment
     "otp": false,                   # true: what the signer types is an OTP, not a PIN
     "max_hashes_per_call": 50,      # optional: split signatures/signHash calls
     "timeout": 30}                  # seconds per HTTP call

The signer's account: the credential ID and, for services with a per-user login, a user name
and password exchanged for an access token through ``auth/login`` (HTTP Basic). Without either
a login or a token the service is called without authentication (e.g. certomancer-csc-dummy).
The credential's PIN (or OTP) is typed at signing time; an empty one is not sent (implicit
authorisation mode). CSC with the PIN answers at once, so the source is a synchronous
:class:`~transcripts.signing.sources.SignerSource` around a
:class:`~transcripts.signing.signers.CscSigner`: one ``credentials/authorize`` per batch (per
``multisign`` digests).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from transcripts.signing.services import AccountField, RemoteService, register
from transcripts.signing.signers import CscSigner, SigningError, csc_api_version, csc_login
from transcripts.signing.sources import SignerSource


@register
class CscService(RemoteService):
    adapter = "csc"
    account_fields = {
        "credential_id": AccountField(
            label=gettext_lazy("Credential ID"),
            help_text=gettext_lazy("The ID of your signing certificate at the service."),
        ),
        "username": AccountField(
            label=gettext_lazy("User name at the service"),
            required=False,
            help_text=gettext_lazy("Only if the service asks you to sign in."),
        ),
        "password": AccountField(
            label=gettext_lazy("Password at the service"), secret=True, required=False
        ),
    }
    signing_secret_label = gettext_lazy("PIN of the signing certificate")

    def __init__(self, name: str, options: dict[str, Any]) -> None:
        super().__init__(name, options)
        self.base_url = str(options.get("base_url") or "")
        if not self.base_url.startswith(("https://", "http://")):
            raise SigningError(
                _("The signing service “%(name)s” has no valid address (base_url).")
                % {"name": name}
            )
        self.api_version = csc_api_version(self.base_url, options.get("api_version"))
        self.timeout = float(options.get("timeout") or 30.0)
        self.max_hashes_per_call = _positive_or_none(options.get("max_hashes_per_call"))

    def source(self, *, account: dict[str, str], secret: str = "") -> SignerSource:
        return SignerSource(self.signer(account=account, secret=secret))

    def signer(self, *, account: dict[str, str], secret: str = "") -> CscSigner:
        """The CSC signer of ``account`` with ``secret`` as the credential's PIN (or OTP)."""
        credential_id = (account.get("credential_id") or "").strip()
        if not credential_id:
            raise SigningError(
                _("Your account at “%(service)s” has no credential ID.") % {"service": self.label}
            )
        as_otp = bool(self.options.get("otp"))
        return CscSigner(
            self.base_url,
            credential_id,
            access_token=self._access_token(account),
            pin=(secret or None) if not as_otp else None,
            otp=(secret or None) if as_otp else None,
            api_version=self.api_version,
            max_hashes_per_call=self.max_hashes_per_call,
            timeout=self.timeout,
        )

    def _access_token(self, account: dict[str, str]) -> str | None:
        username = (account.get("username") or "").strip()
        if username:
            return csc_login(
                self.base_url,
                username=username,
                password=account.get("password") or "",
                timeout=self.timeout,
            )
        return str(self.options["token"]) if self.options.get("token") else None


def _positive_or_none(value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if number < 1:
        raise SigningError(f"max_hashes_per_call must be a positive number, not {value!r}")
    return number
