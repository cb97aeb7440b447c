import ipaddress
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest

#: An IPv6 client holds a whole network of this size: it is one address for the lock-out.
IPV6_PREFIX = 64


class NoSignupAccountAdapter(DefaultAccountAdapter):
    """School admins create accounts; nobody signs up on their own."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials: Any) -> str:
        """The "key" of allauth's failed-login limit (ACCOUNT_RATE_LIMITS["login_failed"],
        `…/key`): the account (allauth's site and login) and the client's address. allauth
        keys it by the account alone, so anyone could lock any account out for five minutes
        with five wrong passwords; per account and address, only the guesser's own address is
        locked. The per-address limit (`…/ip`) still counts every failure from an address."""
        account = super()._get_login_attempts_cache_key(request, **credentials)
        return f"{account}:{client_network(self.get_client_ip(request))}"


def client_network(address: str) -> str:
    """An IPv4 address as it is; an IPv6 address as its /64 network."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network(f"{parsed}/{IPV6_PREFIX}", strict=False))
    return str(parsed)
