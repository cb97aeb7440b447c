"""Remote signing services: one adapter class per protocol, one configured service per provider.

A deployment lists the services its signers may use in ``settings.SIGNING_SERVICES`` (read from
the JSON file named by ``SIGNING_SERVICES_FILE``; docs/signing.md): a name, the adapter that
speaks the service's protocol, its endpoint and the deployment's own credentials with it::

    {"vnca-csc": {"adapter": "csc", "label": "…", "base_url": "https://…/csc/v1",
                  "api_version": "v1"},
     "vnca-phone": {"adapter": "confirm-v1", "label": "…", "base_url": "https://…/api/v1",
                    "api_key": "…"}}

Endpoints come only from there, never from a user: a user picks a configured service and gives
their own account at it (e.g. a CSC credential ID) on their signing settings page; the secret
parts of that account are stored encrypted at rest.

To add a provider, write one :class:`RemoteService` subclass (its protocol), register it in
:data:`ADAPTERS`, and test it against a fake of the provider speaking the real protocol over
a real socket (see ``transcripts/signing/demo_services.py``).
"""

from __future__ import annotations

import abc
import dataclasses
from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings
from django.utils.translation import gettext as _

from transcripts.signing.signers import SigningError
from transcripts.signing.sources import SignatureSource

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


@dataclasses.dataclass(frozen=True)
class AccountField:
    """One field of a signer's account at a service, asked on their signing settings page."""

    label: StrOrPromise
    secret: bool = False
    required: bool = True
    help_text: StrOrPromise = ""


class RemoteService(abc.ABC):
    """A configured remote signing service, speaking one protocol (the subclass)."""

    #: The name used for this protocol in SIGNING_SERVICES' "adapter".
    adapter: ClassVar[str]
    #: The fields of a signer's account at the service (name → field).
    account_fields: ClassVar[dict[str, AccountField]] = {}
    #: What the signer types when signing (e.g. the credential's PIN), or None when the service
    #: asks the signer itself (a confirmation on their phone).
    signing_secret_label: ClassVar[StrOrPromise | None] = None

    def __init__(self, name: str, options: dict[str, Any]) -> None:
        self.name = name
        self.options = options
        self.label = str(options.get("label") or name)

    @abc.abstractmethod
    def source(self, *, account: dict[str, str], secret: str = "") -> SignatureSource:
        """The signature source of one signer's ``account`` (its fields, secrets decrypted);
        ``secret`` is what the signer typed when signing (``signing_secret_label``). Reaching
        the service to learn the certificate is allowed here; raises SigningError."""


#: adapter name → class; filled by the adapter modules below.
ADAPTERS: dict[str, type[RemoteService]] = {}


def register(cls: type[RemoteService]) -> type[RemoteService]:
    ADAPTERS[cls.adapter] = cls
    return cls


def configured() -> dict[str, dict[str, Any]]:
    return dict(getattr(settings, "SIGNING_SERVICES", {}) or {})


def service(name: str) -> RemoteService:
    """The configured service ``name``; SigningError when it is not (or no longer) configured."""
    options = configured().get(name)
    if options is None:
        raise SigningError(
            _("The remote signing service “%(name)s” is not configured on this server.")
            % {"name": name}
        )
    adapter = ADAPTERS.get(str(options.get("adapter")))
    if adapter is None:
        raise SigningError(f"Unknown signing service adapter {options.get('adapter')!r}")
    return adapter(name, options)


def choices() -> list[tuple[str, str]]:
    """(name, label) of every configured service, for the settings page."""
    return [(name, str(options.get("label") or name)) for name, options in configured().items()]


# Adapters register themselves on import.
from transcripts.signing.services import confirm, csc  # noqa: E402, F401
