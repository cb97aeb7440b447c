"""The companion's settings, from its command line."""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

from sodiem_companion import __version__

HOST = "127.0.0.1"  # Loopback only, on purpose: there is no option to listen elsewhere.
DEFAULT_PORT = 8790
_DEFAULT_PORTS = {"http": 80, "https": 443}


def default_state_dir() -> Path:
    return Path.home() / ".sodiem-companion"


@dataclasses.dataclass(frozen=True)
class Config:
    sites: tuple[str, ...]
    """Origins (scheme://host[:port]) of the school sites allowed to use the companion."""
    lib: str
    """Path of the token's PKCS#11 library (.dll / .so / .dylib)."""
    token_label: str | None = None
    port: int = DEFAULT_PORT
    """0 picks a free port (tests)."""
    state_dir: Path = dataclasses.field(default_factory=default_state_dir)
    open_browser: bool = True
    console: bool = False


def normalize_origin(value: str) -> str:
    """``https://School.example:443/`` → ``https://school.example``: the exact form a browser
    sends in its Origin header. Raises ValueError for anything that is not an origin."""
    parts = urlsplit(value.strip())
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"not an http(s) origin: {value!r}")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ValueError(f"an origin has no path, query or user: {value!r}")
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"bad port in {value!r}") from exc
    host = parts.hostname.lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def _origin(value: str) -> str:
    try:
        return normalize_origin(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a port number: {value!r}") from exc
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is between 1 and 65535, not {port}")
    return port


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sodiem-companion",
        description=(
            "Chương trình ký số Sổ điểm: ký học bạ bằng USB token trên máy này. "
            "(Sổ điểm signing companion: signs with the USB token on this computer; "
            f"listens on {HOST} only.)"
        ),
        allow_abbrev=False,
    )
    parser.add_argument(
        "--site",
        dest="sites",
        action="append",
        required=True,
        type=_origin,
        metavar="ORIGIN",
        help="the school site allowed to use the companion, e.g. https://hocba.school.example "
        "(repeat for several)",
    )
    parser.add_argument(
        "--lib",
        required=True,
        metavar="PKCS11_LIB",
        help="the token's PKCS#11 library, e.g. C:\\Windows\\System32\\<vendor>csp11.dll or "
        "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so",
    )
    parser.add_argument("--token-label", metavar="LABEL", help="use only the token with this label")
    parser.add_argument(
        "--port", type=_port, default=DEFAULT_PORT, help=f"port on {HOST} (default %(default)s)"
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="where pairings are kept (default ~/.sodiem-companion)",
    )
    parser.add_argument(
        "--no-browser",
        action="store_true",
        help="do not open this computer's browser when a confirmation is waiting",
    )
    parser.add_argument(
        "--console", action="store_true", help="also ask for codes and PINs on this terminal"
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def parse_args(argv: Sequence[str] | None = None) -> Config:
    args = build_parser().parse_args(argv)
    return Config(
        sites=tuple(dict.fromkeys(args.sites)),
        lib=args.lib,
        token_label=args.token_label,
        port=args.port,
        state_dir=args.state_dir or default_state_dir(),
        open_browser=not args.no_browser,
        console=args.console,
    )
