"""``--console``: the same confirmations on the terminal, for a computer without a usable
browser or a person who prefers it. The PIN is read with getpass (not echoed)."""

from __future__ import annotations

import getpass
import threading
from collections.abc import Callable

from sodiem_companion.app import Companion
from sodiem_companion.batches import SigningRequest
from sodiem_companion.pairing import Pairing


def _next_item(companion: Companion) -> Pairing | SigningRequest | None:
    pairings = companion.pairings.pending()
    if pairings:
        return pairings[0]
    requests = [r for r in companion.pending_requests() if not r.working]
    return requests[0] if requests else None


def _describe(request: SigningRequest) -> str:
    summary = request.summary
    lines = [
        f"Yêu cầu ký từ {request.origin}:",
        f"  Trường:       {summary.school}",
    ]
    if summary.class_names:
        lines.append(f"  Lớp:          {', '.join(summary.class_names)}")
    lines.append(f"  Vai trò:      {summary.role_words}")
    if summary.signer:
        lines.append(f"  Người ký:     {summary.signer}")
    lines += [
        f"  Sẽ ký:        {summary.counts_words}",
        f"  Chứng thư số: {request.certificate.subject} "
        f"(hết hạn {request.certificate.not_after:%d/%m/%Y})",
    ]
    return "\n".join(lines)


def _pair(companion: Companion, pairing: Pairing, ask: Callable[[str], str], say: Callable) -> None:
    typed = ask(
        f"\nTrang {pairing.origin} muốn ghép nối với chương trình ký số.\n"
        "Nhập mã ghép nối hiển thị trên trình duyệt (để trống để từ chối): "
    )
    if not typed.strip():
        companion.pairings.refuse(pairing.id)
        say("Đã từ chối ghép nối.")
        return
    companion.confirm_pairing(pairing.id, typed)
    if pairing.status == "paired":
        say(f"Đã ghép nối với {pairing.origin}.")
    elif pairing.message:
        say(pairing.message)


def _sign(
    companion: Companion, request: SigningRequest, ask_pin: Callable[[str], str], say: Callable
) -> None:
    say("\n" + _describe(request))
    pin = ask_pin(
        f"Ký {request.summary.documents} tệp cho {request.summary.school}? "
        "PIN (để trống để từ chối): "
    )
    if not pin:
        companion.reject(request.id)
        say("Đã từ chối yêu cầu ký.")
        return
    companion.sign(request.id, pin)
    del pin
    with companion.changed:
        companion.changed.wait_for(lambda: not request.working, timeout=3600)
    say(request.message)


def run_console(
    companion: Companion,
    *,
    stop: threading.Event,
    ask: Callable[[str], str] = input,
    ask_pin: Callable[[str], str] = getpass.getpass,
    say: Callable[[str], None] = print,
) -> None:
    """Ask on the terminal for each pairing and signing request until ``stop`` is set."""
    while not stop.is_set():
        item = _next_item(companion)
        if item is None:
            with companion.changed:
                companion.changed.wait(timeout=0.5)
            continue
        try:
            if isinstance(item, Pairing):
                _pair(companion, item, ask, say)
            else:
                _sign(companion, item, ask_pin, say)
        except EOFError:  # no terminal after all: the page still works
            return
