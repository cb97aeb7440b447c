"""The companion's own page, for the person at this computer: codes to type, batches to confirm.

Self-contained HTML (no external asset), Vietnamese first with short English. A tiny script
(served from this origin, /ui/page.js) reloads the page when the companion's state changes and
nothing is being typed.
"""

from __future__ import annotations

import hashlib
from html import escape

from sodiem_companion import __version__, batches
from sodiem_companion.app import Companion
from sodiem_companion.batches import SigningRequest
from sodiem_companion.pairing import Pairing

PAGE_SCRIPT = """\
"use strict";
(function () {
  var version = document.body.getAttribute("data-version");
  function typing() {
    var fields = document.querySelectorAll("input[type=text], input[type=password]");
    for (var i = 0; i < fields.length; i++) {
      if (fields[i].value || fields[i] === document.activeElement) return true;
    }
    return false;
  }
  function check() {
    fetch("/ui/version", { cache: "no-store" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        if (data.version !== version && !typing()) location.reload();
      })
      .catch(function () {});
  }
  setInterval(check, 2000);
  document.addEventListener("submit", function (event) {
    var buttons = event.target.querySelectorAll("button");
    setTimeout(function () {
      for (var i = 0; i < buttons.length; i++) buttons[i].disabled = true;
    }, 0);
  });
})();
"""

_STYLE = """
body{font:16px/1.45 system-ui,"Segoe UI",Roboto,sans-serif;margin:0;background:#f4f6f8;
color:#1b1f23}
header{background:#0b5394;color:#fff;padding:.8rem 1.2rem}
header h1{margin:0;font-size:1.25rem}
main{max-width:44rem;margin:1rem auto;padding:0 1rem}
.en{color:#5a6570;font-size:.85em;font-weight:normal}
header .en{color:#d8e6f3}
.card{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:1rem 1.2rem;
margin:0 0 1rem}
.card h2{margin:0 0 .5rem;font-size:1.1rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:.5rem 0 1rem}
dt{color:#5a6570}dd{margin:0}
label{display:block;margin:.6rem 0 .25rem;font-weight:600}
input[type=text],input[type=password]{font-size:1.1rem;padding:.4rem .5rem;width:16rem;
max-width:100%}
button{font-size:1rem;padding:.45rem 1.1rem;margin:.7rem .4rem 0 0;border-radius:6px;
border:1px solid #0b5394;background:#0b5394;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#a40e26;border-color:#a40e26}
.error{color:#a40e26;font-weight:600}
.notice{background:#dff3e4;border:1px solid #7cc48b;border-radius:8px;padding:.6rem 1rem;
margin:0 0 1rem}
.empty{color:#5a6570}
.count{font-size:1.15rem}
footer{max-width:44rem;margin:1rem auto 2rem;padding:0 1rem;color:#5a6570;font-size:.9rem}
"""


def page_version(companion: Companion) -> str:
    """Changes whenever what the page shows changes (so the page reloads only then)."""
    parts: list[str] = list(companion.notices())
    for p in companion.pairings.pending():
        parts.append(f"p:{p.id}:{p.status}:{p.message}")
    for r in companion.pending_requests():
        parts.append(f"r:{r.id}:{r.status}:{r.working}:{r.done}:{r.message}")
    parts += companion.pairings.paired_origins()
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def _hidden(companion: Companion) -> str:
    return f'<input type="hidden" name="csrf" value="{escape(companion.csrf_token)}">'


def _pairing_card(companion: Companion, pairing: Pairing) -> str:
    field = f"code-{escape(pairing.id)}"
    error = (
        f'<p class="error" role="alert">{escape(pairing.message)}</p>' if pairing.message else ""
    )
    return f"""
<form class="card" method="post" action="/ui/pair/{escape(pairing.id)}">
  <h2>Ghép nối với trang web <span class="en">Pair with a web site</span></h2>
  <p>Trang <strong>{escape(pairing.origin)}</strong> muốn dùng chương trình ký số trên máy này.
  <span class="en">This site asks to use the signing companion.</span></p>
  <label for="{field}">Nhập mã ghép nối hiển thị trên trình duyệt
  <span class="en">Type the code shown in the browser</span></label>
  <input id="{field}" name="code" type="text" autocomplete="off" spellcheck="false"
    autocapitalize="characters" maxlength="16">
  {error}{_hidden(companion)}
  <div><button name="action" value="pair">Ghép nối</button>
  <button class="secondary" name="action" value="refuse">Từ chối</button></div>
</form>"""


def _request_card(companion: Companion, request: SigningRequest) -> str:
    summary, certificate = request.summary, request.certificate
    rows = [("Trường", summary.school)]
    if summary.class_names:
        rows.append(("Lớp", ", ".join(summary.class_names)))
    rows.append(("Vai trò", summary.role_words))
    if summary.signer:
        rows.append(("Người ký", summary.signer))
    left = max(0, int((batches.REQUEST_TTL - (companion.clock() - request.created)) // 60))
    details = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in rows)
    field = f"pin-{escape(request.id)}"
    if request.working:
        action = (
            f'<p class="count" role="status">Đang ký {request.done}/{summary.documents} tệp… '
            '<span class="en">Signing…</span></p>'
        )
    else:
        error = (
            f'<p class="error" role="alert">{escape(request.message)}</p>'
            if request.message
            else ""
        )
        action = f"""
  {error}<label for="{field}">Mã PIN của token <span class="en">Token PIN</span></label>
  <input id="{field}" name="pin" type="password" autocomplete="off">
  {_hidden(companion)}
  <div><button name="action" value="sign">Ký</button>
  <button class="secondary" name="action" value="reject">Từ chối</button></div>"""
    return f"""
<form class="card" method="post" action="/ui/sign/{escape(request.id)}">
  <h2>Yêu cầu ký số <span class="en">Signing request</span></h2>
  <p>Từ trang <strong>{escape(request.origin)}</strong></p>
  <dl>{details}
    <dt>Sẽ ký <span class="en">to sign</span></dt>
    <dd class="count"><strong>{escape(summary.counts_words)}</strong></dd>
    <dt>Chứng thư số</dt><dd>{escape(certificate.subject)}<br>
    <span class="en">hết hạn / expires</span> {certificate.not_after:%d/%m/%Y}</dd>
    <dt>Yêu cầu hết hạn</dt><dd>sau {left} phút</dd>
  </dl>{action}
</form>"""


def _sites(companion: Companion) -> str:
    paired = companion.pairings.paired_origins()
    items = "".join(
        f"""<li>{escape(origin)}
<form method="post" action="/ui/unpair" style="display:inline">{_hidden(companion)}
<input type="hidden" name="origin" value="{escape(origin)}">
<button class="secondary" name="action" value="unpair">Hủy ghép nối</button></form></li>"""
        for origin in paired
    )
    allowed = ", ".join(escape(site) for site in companion.config.sites)
    listing = f"<ul>{items}</ul>" if items else '<p class="empty">Chưa ghép nối trang nào.</p>'
    return f"""
<section class="card">
  <h2>Trang đã ghép nối <span class="en">Paired sites</span></h2>{listing}
  <p class="en">Chỉ các trang sau được phép dùng chương trình / allowed sites: {allowed}</p>
</section>"""


def render_page(companion: Companion) -> str:
    notices = "".join(
        f'<div class="notice" role="status">{escape(text)}</div>' for text in companion.notices()
    )
    cards = [_pairing_card(companion, p) for p in companion.pairings.pending()]
    cards += [_request_card(companion, r) for r in companion.pending_requests()]
    if not cards:
        cards.append(
            '<p class="card empty">Không có yêu cầu nào đang chờ. '
            '<span class="en">Nothing waits for your confirmation.</span></p>'
        )
    return f"""<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Ký số Sổ điểm</title>
<style>{_STYLE}</style>
<script src="/ui/page.js" defer></script>
</head>
<body data-version="{page_version(companion)}">
<header><h1>Chương trình ký số Sổ điểm <span class="en">Sổ điểm signing companion
{escape(__version__)}</span></h1></header>
<main>
{notices}{"".join(cards)}{_sites(companion)}
</main>
<footer>Mã PIN chỉ được nhập ở trang này, trên máy này; không được lưu và không gửi đi đâu.
Không bao giờ nhập mã PIN token vào trang web của trường.
<span class="en">Type the PIN here only; it is never stored or sent.</span></footer>
</body>
</html>"""
