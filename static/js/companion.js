/* Sổ điểm: the web page's side of the signing companion (signer-companion/README.md).
 *
 * The companion runs on the signer's own computer (http://127.0.0.1:8790) and holds the USB
 * token; this page never sees a PIN or a key. It sends a batch's digests once, the person
 * confirms in the companion (PIN typed there), and the page gets the signature values back.
 *
 * window.SodiemCompanion: status(), pair(onCode), certificates(), sign({certificate_sha256,
 * digests, summary}) — promises; the pairing token is kept in localStorage
 * ("sodiem-companion-token") and cleared when the companion answers 401/403.
 *
 * Auto-binding (event delegation, so content swapped in later works too):
 * - [data-companion-sign] with data-digests-url (GET → {certificate_sha256, digests, summary,
 *   expires_at}) and data-values-url (POST {values} with X-CSRFToken → {ok: true} or 400
 *   {error}), containing [data-companion-start] (button), [data-companion-status] (text) and
 *   [data-companion-pairing] (hidden unless pairing; the code goes in its
 *   [data-companion-code] child if there is one, else the whole area says what to type).
 *   On success: a "companion:done" event on the element, then the page reloads after 1 s.
 * - [data-companion-certificates] containing [data-companion-read] (button), a <select> in
 *   (or being) [data-companion-certificate-select], and <input type=hidden
 *   name=certificate_pem>, filled with the chosen certificate's PEM.
 * The companion's address: data-companion-url on the element (or an ancestor), else on the
 * <script> tag that loads this file, else on any element of the page, else the default.
 * Plain ES2017, no dependency, no build step.
 */
(function () {
  "use strict";

  const TOKEN_KEY = "sodiem-companion-token";
  const DEFAULT_URL = "http://127.0.0.1:8790";
  const CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"; // no 0/O, no 1/I
  const CODE_LENGTH = 8;
  const POLL_MS = 1000;
  const RELOAD_MS = 1000;
  const SCRIPT_URL = document.currentScript && document.currentScript.getAttribute("data-companion-url");

  const T = {
    connecting: "Đang kết nối chương trình ký số…",
    pairing: "Cần ghép nối trang này với chương trình ký số trên máy của bạn.",
    typeCode: (code) => "Nhập mã " + code + " vào chương trình ký số",
    loading: "Đang chuẩn bị các tệp cần ký…",
    waiting: "Đang chờ bạn xác nhận trong chương trình ký số…",
    signing: (done, total) => "Đang ký " + done + "/" + total + " tệp…",
    sending: "Đang gửi chữ ký lên máy chủ…",
    done: (count) => "Đã ký " + count + " tệp. Đang tải lại trang…",
    reading: "Đang đọc chứng thư số trên token…",
    certificatesRead: (count) => "Đã đọc " + count + " chứng thư số. Chọn một chứng thư rồi lưu.",
    noCertificates: "Không tìm thấy chứng thư số nào trên token. Token đã được cắm vào máy chưa?",
    expires: "hết hạn",
    unreachable: () =>
      "Không kết nối được chương trình ký số trên máy này. Hãy khởi động nó: " +
      "python run.py --site " + window.location.origin + " --lib <thư viện PKCS#11 của token> " +
      "(xem signer-companion/README.md), rồi bấm lại.",
    notCompanion: "Cổng này không phải chương trình ký số Sổ điểm.",
    unauthorized: "Chương trình ký số chưa ghép nối với trang này. Bấm lại để ghép nối.",
    refused: "Ghép nối bị từ chối trong chương trình ký số. Bấm lại để thử lại.",
    pairingExpired: "Mã ghép nối đã hết hạn. Bấm lại để lấy mã mới.",
    rejected: "Bạn đã từ chối ký trong chương trình ký số.",
    expired: "Yêu cầu ký đã hết hạn vì chưa được xác nhận. Bấm lại để thử lại.",
    batchExpired: "Phiên ký này đã hết hạn. Hãy tải lại trang.",
    serverRefused: "Máy chủ không nhận chữ ký: ",
  };

  class CompanionError extends Error {
    constructor(message, code, status) {
      super(message);
      this.name = "CompanionError";
      this.code = code; // unreachable | unauthorized | http | refused | expired | rejected | failed
      this.status = status || 0;
    }
  }

  // --- Storage and addresses -----------------------------------------------------------------

  function getToken() {
    try {
      return window.localStorage.getItem(TOKEN_KEY);
    } catch (e) {
      return null;
    }
  }

  function setToken(token) {
    try {
      window.localStorage.setItem(TOKEN_KEY, token);
    } catch (e) {
      /* private mode: the page pairs again next time */
    }
  }

  function clearToken() {
    try {
      window.localStorage.removeItem(TOKEN_KEY);
    } catch (e) {
      /* nothing stored */
    }
  }

  function baseUrl(element) {
    const near = element && element.closest ? element.closest("[data-companion-url]") : null;
    const any = document.querySelector("[data-companion-url]");
    const url =
      (near && near.getAttribute("data-companion-url")) ||
      SCRIPT_URL ||
      (any && any.getAttribute("data-companion-url")) ||
      DEFAULT_URL;
    return url.replace(/\/+$/, "");
  }

  /* Wait ``ms`` — or less: the page coming back into view (the signer typed the PIN in the
   * companion's own window, then returns) wakes the wait at once. A browser may slow down or
   * freeze the timers of a page in the background; the next look must not wait for them. */
  const sleep = (ms) =>
    new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        document.removeEventListener("visibilitychange", onVisible);
        window.removeEventListener("focus", wake);
        window.removeEventListener("pageshow", wake);
        resolve();
      };
      const onVisible = () => {
        if (document.visibilityState === "visible") wake();
      };
      const timer = setTimeout(wake, ms);
      document.addEventListener("visibilitychange", onVisible);
      window.addEventListener("focus", wake);
      window.addEventListener("pageshow", wake);
    });

  // --- The companion's API -------------------------------------------------------------------

  async function call(method, path, body, element) {
    const headers = {};
    const token = getToken();
    if (token) headers.Authorization = "Bearer " + token;
    const init = { method: method, mode: "cors", cache: "no-store", credentials: "omit", headers: headers };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(baseUrl(element) + path, init);
    } catch (e) {
      throw new CompanionError(T.unreachable(), "unreachable");
    }
    let data = null;
    try {
      data = await response.json();
    } catch (e) {
      data = null;
    }
    const message = data && typeof data.error === "string" ? data.error : "";
    if (response.status === 401 || response.status === 403) {
      clearToken();
      throw new CompanionError(message || T.unauthorized, "unauthorized", response.status);
    }
    if (!response.ok) {
      throw new CompanionError(message || "HTTP " + response.status, "http", response.status);
    }
    return data;
  }

  async function status(element) {
    const data = await call("GET", "/v1/status", undefined, element);
    if (!data || data.app !== "sodiem-companion") {
      throw new CompanionError(T.notCompanion, "unreachable");
    }
    return data;
  }

  function randomCode() {
    const bytes = new Uint8Array(CODE_LENGTH);
    window.crypto.getRandomValues(bytes);
    // 256 is a multiple of the alphabet's 32 letters: every letter is equally likely.
    return Array.from(bytes, (b) => CODE_ALPHABET[b % CODE_ALPHABET.length]).join("");
  }

  /** Pair this page with the companion. onCode("ABCD-EFGH") lets the page show the code that
   * the person types into the companion; resolves once paired, rejects if refused/expired. */
  async function pair(onCode, element) {
    const code = randomCode();
    if (typeof onCode === "function") onCode(code.slice(0, 4) + "-" + code.slice(4));
    const started = await call("POST", "/v1/pair", { code: code }, element);
    const path = "/v1/pair/" + encodeURIComponent(started.pairing_id);
    for (;;) {
      await sleep(POLL_MS);
      const state = await call("GET", path, undefined, element);
      if (state.status === "paired") {
        if (!state.token) throw new CompanionError("paired without a token", "failed");
        setToken(state.token);
        return true;
      }
      if (state.status !== "pending") throw new CompanionError(state.status, state.status);
    }
  }

  function certificates(element) {
    return call("GET", "/v1/certificates", undefined, element);
  }

  /** Ask for one confirmation of a whole batch; resolves with the signature values (base64,
   * in the digests' order). onPending(state) is called at each poll while it waits. */
  async function sign(request, onPending, element) {
    const started = await call(
      "POST",
      "/v1/sign",
      {
        certificate_sha256: request.certificate_sha256,
        algorithm: "sha256",
        digests: request.digests,
        summary: request.summary,
      },
      element,
    );
    const path = "/v1/sign/" + encodeURIComponent(started.request_id);
    for (;;) {
      await sleep(POLL_MS);
      const state = await call("GET", path, undefined, element);
      if (state.status === "signed") return state.signatures;
      if (state.status === "pending") {
        if (typeof onPending === "function") onPending(state);
        continue;
      }
      if (state.status === "rejected" || state.status === "expired") {
        throw new CompanionError(state.status, state.status);
      }
      throw new CompanionError(state.message || state.status, state.status || "failed");
    }
  }

  // --- Binding to the server's pages ---------------------------------------------------------

  function part(root, selector) {
    return root.querySelector(selector);
  }

  function say(root, text, isError) {
    const area = part(root, "[data-companion-status]");
    if (!area) return;
    if (!area.hasAttribute("aria-live")) area.setAttribute("aria-live", "polite");
    area.textContent = text;
    area.classList.toggle("text-danger", Boolean(isError));
  }

  function showCode(root, code) {
    const area = part(root, "[data-companion-pairing]");
    if (!area) return;
    const slot = part(area, "[data-companion-code]");
    if (slot) slot.textContent = code;
    else area.textContent = T.typeCode(code);
    area.hidden = false;
  }

  function hidePairing(root) {
    const area = part(root, "[data-companion-pairing]");
    if (area) area.hidden = true;
  }

  function explain(error) {
    switch (error && error.code) {
      case "unreachable":
        return error.message;
      case "unauthorized":
        return T.unauthorized;
      case "refused":
        return T.refused;
      case "rejected":
        return T.rejected;
      case "expired":
        return error.message === "expired" ? T.expired : error.message;
      default:
        return (error && error.message) || String(error);
    }
  }

  async function ensurePaired(root) {
    say(root, T.connecting);
    const state = await status(root);
    if (state.paired) return;
    say(root, T.pairing);
    try {
      await pair((code) => showCode(root, code), root);
    } catch (error) {
      if (error.code === "expired") throw new CompanionError(T.pairingExpired, "expired");
      throw error;
    } finally {
      hidePairing(root);
    }
  }

  /** Run fn once paired; if the companion has forgotten the pairing meanwhile, pair again and
   * run it once more. */
  async function withPairing(root, fn) {
    await ensurePaired(root);
    try {
      return await fn();
    } catch (error) {
      if (error.code !== "unauthorized") throw error;
      await ensurePaired(root);
      return fn();
    }
  }

  function csrfToken() {
    const cookie = document.cookie.split(";").map((c) => c.trim()).find((c) => c.indexOf("csrftoken=") === 0);
    if (cookie) return decodeURIComponent(cookie.slice("csrftoken=".length));
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  async function server(url, init) {
    let response;
    try {
      response = await fetch(url, Object.assign({ credentials: "same-origin", cache: "no-store" }, init));
    } catch (e) {
      throw new CompanionError("Không kết nối được máy chủ (" + e.message + ").", "http");
    }
    let data = null;
    try {
      data = await response.json();
    } catch (e) {
      data = null;
    }
    if (!response.ok) {
      const message = data && data.error ? data.error : "HTTP " + response.status;
      throw new CompanionError(message, "http", response.status);
    }
    return data;
  }

  async function runSign(root, button) {
    if (root.hasAttribute("data-companion-busy")) return;
    root.setAttribute("data-companion-busy", "");
    if (button) button.disabled = true;
    let finished = false;
    try {
      const values = await withPairing(root, async () => {
        say(root, T.loading);
        const batch = await server(root.getAttribute("data-digests-url"), {
          headers: { Accept: "application/json" },
        });
        if (batch.expires_at && Date.parse(batch.expires_at) < Date.now()) {
          throw new CompanionError(T.batchExpired, "expired");
        }
        say(root, T.waiting);
        return sign(
          { certificate_sha256: batch.certificate_sha256, digests: batch.digests, summary: batch.summary },
          (state) => {
            const progress = state.progress || {};
            if (progress.done > 0) say(root, T.signing(progress.done, progress.total));
            else say(root, state.message ? T.waiting + " " + state.message : T.waiting, Boolean(state.message));
          },
          root,
        );
      });
      say(root, T.sending);
      try {
        await server(root.getAttribute("data-values-url"), {
          method: "POST",
          headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
          body: JSON.stringify({ values: values }),
        });
      } catch (error) {
        throw new CompanionError(T.serverRefused + error.message, "http", error.status);
      }
      finished = true;
      say(root, T.done(values.length));
      root.dispatchEvent(new CustomEvent("companion:done", { bubbles: true, detail: { count: values.length } }));
      setTimeout(() => window.location.reload(), RELOAD_MS);
    } catch (error) {
      say(root, explain(error), true);
    } finally {
      root.removeAttribute("data-companion-busy");
      if (button && !finished) button.disabled = false;
    }
  }

  function formatDate(iso) {
    const date = new Date(iso);
    if (isNaN(date.getTime())) return iso;
    const pad = (n) => (n < 10 ? "0" : "") + n;
    return pad(date.getDate()) + "/" + pad(date.getMonth() + 1) + "/" + date.getFullYear();
  }

  function certificateSelect(root) {
    const holder = part(root, "[data-companion-certificate-select]");
    if (!holder) return null;
    return holder.tagName === "SELECT" ? holder : holder.querySelector("select");
  }

  function fillPem(root) {
    const select = certificateSelect(root);
    const input = part(root, 'input[name="certificate_pem"]');
    const known = root._companionCertificates || {};
    if (select && input) input.value = known[select.value] ? known[select.value].pem : "";
  }

  async function runRead(root, button) {
    if (root.hasAttribute("data-companion-busy")) return;
    root.setAttribute("data-companion-busy", "");
    if (button) button.disabled = true;
    try {
      const list = await withPairing(root, () => {
        say(root, T.reading);
        return certificates(root);
      });
      const select = certificateSelect(root);
      root._companionCertificates = {};
      if (select) select.textContent = "";
      list.forEach((certificate) => {
        root._companionCertificates[certificate.sha256] = certificate;
        if (!select) return;
        const option = document.createElement("option");
        option.value = certificate.sha256;
        option.textContent = certificate.subject + " (" + T.expires + " " + formatDate(certificate.not_after) + ")";
        select.appendChild(option);
      });
      fillPem(root);
      say(root, list.length ? T.certificatesRead(list.length) : T.noCertificates, !list.length);
      root.dispatchEvent(new CustomEvent("companion:certificates", { bubbles: true, detail: { certificates: list } }));
    } catch (error) {
      say(root, explain(error), true);
    } finally {
      root.removeAttribute("data-companion-busy");
      if (button) button.disabled = false;
    }
  }

  document.addEventListener("click", (event) => {
    const target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    const start = target.closest("[data-companion-start]");
    const signRoot = start && start.closest("[data-companion-sign]");
    if (signRoot) {
      event.preventDefault();
      runSign(signRoot, start);
      return;
    }
    const read = target.closest("[data-companion-read]");
    const readRoot = read && read.closest("[data-companion-certificates]");
    if (readRoot) {
      event.preventDefault();
      runRead(readRoot, read);
    }
  });

  document.addEventListener("change", (event) => {
    const target = event.target instanceof Element ? event.target : null;
    const root = target && target.tagName === "SELECT" ? target.closest("[data-companion-certificates]") : null;
    if (root) fillPem(root);
  });

  window.SodiemCompanion = {
    status: () => status(),
    pair: (onCode) => pair(onCode),
    certificates: () => certificates(),
    sign: (request, onPending) => sign(request, onPending),
    clearPairing: clearToken,
    baseUrl: () => baseUrl(null),
    CompanionError: CompanionError,
  };
})();
