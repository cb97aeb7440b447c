"""``sodiem-companion`` / ``python -m sodiem_companion``: start the signing companion."""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from sodiem_companion import __version__
from sodiem_companion.config import parse_args
from sodiem_companion.console import run_console
from sodiem_companion.pkcs11_token import LibraryError, TokenError
from sodiem_companion.server import CompanionServer, create_server


def _readable_output() -> None:
    """Vietnamese text on a Windows console or a redirected stream must never crash us."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, ValueError):
            stream.reconfigure(errors="replace")  # type: ignore[union-attr]


def _report_token(server: CompanionServer) -> bool:
    """Load the library once at start so that a wrong --lib is said now, not at signing time."""
    try:
        found = server.companion.certificates()
    except LibraryError as exc:
        print(exc, file=sys.stderr)
        print(
            "Kiểm tra đường dẫn --lib (Python 64-bit cần thư viện PKCS#11 64-bit).",
            file=sys.stderr,
        )
        return False
    except TokenError as exc:
        print(f"Token: {exc}")
        return True
    if not found:
        print("Chưa thấy chứng thư số nào: hãy cắm USB token (có thể cắm sau).")
    for entry in found:
        print(f"Chứng thư số: {entry.subject} (hết hạn {entry.not_after:%d/%m/%Y})")
    return True


def main(argv: Sequence[str] | None = None) -> int:
    _readable_output()
    config = parse_args(argv)
    if not Path(config.lib).is_file():
        print(f"Không thấy thư viện PKCS#11 {config.lib!r} (--lib).", file=sys.stderr)
        return 2
    try:
        server = create_server(config)
    except OSError as exc:
        print(
            f"Không mở được cổng {config.port} trên 127.0.0.1 ({exc}). "
            "Có thể chương trình ký số đang chạy rồi.",
            file=sys.stderr,
        )
        return 1
    print(f"Chương trình ký số Sổ điểm {__version__} (Sổ điểm signing companion)")
    print(f"Đang chạy tại {server.url}/ (chỉ máy này / this computer only)")
    print(f"Trang được phép: {', '.join(config.sites)}")
    if not _report_token(server):
        server.server_close()
        return 2
    print("Để dừng: Ctrl+C")
    stop = threading.Event()
    if config.console:
        threading.Thread(
            target=run_console, args=(server.companion,), kwargs={"stop": stop}, daemon=True
        ).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("Đã dừng.")
    finally:
        stop.set()
        server.server_close()
    return 0
