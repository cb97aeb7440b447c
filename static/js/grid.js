/* Sổ điểm: the gradebook grid.
 *
 * A spreadsheet over a server-rendered table (role="grid"): arrow keys, Enter, Tab, typing
 * replaces, F2 / double-click / tap edits, Escape cancels, Delete clears, TSV paste.
 * Every change is queued (kept in localStorage, so a reload or a crash loses nothing) and sent
 * in order, one request at a time; a network failure pauses the queue, which retries with
 * backoff and resumes when the browser is back online. The server's answer decides what a cell
 * shows: saved (its display string), invalid (the typed text and the reason), conflict (both
 * values, the user chooses) or locked. Other people's saves arrive by polling.
 * Plain ES2020, no dependencies, no build step. All texts come from #gb-strings.
 */
(() => {
  "use strict";

  const table = document.getElementById("gb-grid");
  if (!table) return;

  const T = JSON.parse(document.getElementById("gb-strings").textContent);
  const PHRASES = JSON.parse(document.getElementById("gb-phrases")?.textContent || "[]");
  const SAVE_URL = table.dataset.saveUrl;
  const CHANGES_URL = table.dataset.changesUrl;
  const COMMENT_MAX = parseInt(table.dataset.commentMax, 10) || 300;
  const LEVEL_FROM = (table.dataset.levelFrom || "").split(" ").filter(Boolean);
  const STORAGE_KEY = `sodiem.grid.v1:${table.dataset.user}:${location.pathname}`;
  const POLL_MS = 10000;
  const MAX_BACKOFF_MS = 30000;
  const MAX_SERVER_FAILURES = 5; // then the change is shown as not saved and the queue moves on
  const CELL = "td[data-key], td[data-computed]";

  const scroller = document.getElementById("gb-scroll");
  const statusEl = document.getElementById("gb-status");
  const bar = document.getElementById("gb-bar");
  const barWhere = document.getElementById("gb-bar-where");
  const barState = document.getElementById("gb-bar-state");
  const historyButton = document.getElementById("gb-bar-history");
  const modalEl = document.getElementById("gb-explain");
  const modalTitle = document.getElementById("gb-explain-title");
  const modalBody = document.getElementById("gb-explain-body");
  const explainTitle = modalTitle ? modalTitle.textContent : "";

  let writable = table.dataset.writable === "1";
  let cursor = table.dataset.cursor || "0";

  const fmt = (text, params) => text.replace(/%\((\w+)\)s/g, (_, key) => String(params[key] ?? ""));

  // --- Geometry: rows × navigable cells, computed once (the rows never change) -------------

  const ROWS = Array.from(table.tBodies[0].rows).filter((row) => row.dataset.student);
  const GRID = ROWS.map((row) => Array.from(row.querySelectorAll(CELL)));
  const POSITION = new Map();
  GRID.forEach((cells, r) => cells.forEach((cell, c) => POSITION.set(cell, [r, c])));
  const BY_KEY = new Map();
  GRID.forEach((cells, r) =>
    cells.forEach((cell) => {
      if (cell.dataset.key) BY_KEY.set(`${ROWS[r].dataset.student}|${cell.dataset.key}`, cell);
    }),
  );

  const cellAt = (r, c) => (GRID[r] && GRID[r][c]) || null;
  const findCell = (student, key) => BY_KEY.get(`${student}|${key}`) || null;
  const rowOf = (student) => ROWS.find((row) => row.dataset.student === String(student)) || null;
  const textOf = (cell) => cell.querySelector(".gb-text").textContent;
  const setText = (cell, text) => {
    cell.querySelector(".gb-text").textContent = text;
  };
  const isEditable = (cell) =>
    writable && cell.dataset.editable === "1" && cell.dataset.locked !== "1";
  const cellId = (cell) => `${cell.closest("tr").dataset.student}|${cell.dataset.key}`;

  function headerOf(cell) {
    const header = table.tHead.rows[0].cells[cell.cellIndex];
    return header ? header.textContent.trim() : "";
  }

  // --- Focus (roving tabindex) ---------------------------------------------------------------

  let active = GRID.length ? GRID[0][0] : null;
  let tabStart = null; // column where a run of Tabs started: Enter goes back to it

  function reveal(cell) {
    if (!scroller) return;
    // The sticky number and name columns cover the left edge (their widths do not change).
    const sticky = Array.from(table.tHead.querySelectorAll(".gb-roll, .gb-name")).reduce(
      (width, th) => width + th.offsetWidth,
      0,
    );
    const left = cell.offsetLeft;
    const right = left + cell.offsetWidth;
    if (left - scroller.scrollLeft < sticky) scroller.scrollLeft = left - sticky;
    else if (right - scroller.scrollLeft > scroller.clientWidth)
      scroller.scrollLeft = right - scroller.clientWidth;
    const head = table.tHead.offsetHeight;
    const top = cell.offsetTop;
    const bottom = top + cell.offsetHeight;
    if (top - scroller.scrollTop < head) scroller.scrollTop = top - head;
    else if (bottom - scroller.scrollTop > scroller.clientHeight)
      scroller.scrollTop = bottom - scroller.clientHeight;
  }

  function focusCell(cell) {
    if (!cell) return;
    if (active && active !== cell) active.tabIndex = -1;
    active = cell;
    cell.tabIndex = 0;
    cell.focus({ preventScroll: true });
    reveal(cell);
    updateBar(cell);
  }

  function move(cell, dr, dc) {
    const [r, c] = POSITION.get(cell);
    const target = cellAt(Math.max(0, Math.min(GRID.length - 1, r + dr)), c + dc);
    if (target) focusCell(target);
  }

  function moveDown(cell, up = false) {
    const [r, c] = POSITION.get(cell);
    const column = tabStart ?? c;
    tabStart = null;
    const target = cellAt(r + (up ? -1 : 1), column);
    focusCell(target || cell);
  }

  function tabMove(cell, dir) {
    const [r, c] = POSITION.get(cell);
    let target = cellAt(r, c + dir);
    if (target) {
      if (tabStart === null) tabStart = c;
    } else {
      tabStart = null;
      target = dir > 0 ? cellAt(r + 1, 0) : GRID[r - 1] && cellAt(r - 1, GRID[r - 1].length - 1);
    }
    if (!target) return false;
    focusCell(target);
    return true;
  }

  // --- Cell states ---------------------------------------------------------------------------

  function stateWords(state) {
    switch (state) {
      case "saving":
        return T.saving;
      case "saved":
        return T.saved;
      case "queued":
        return navigator.onLine ? T.queued : T.offline;
      case "invalid":
        return T.invalid;
      case "conflict":
        return T.conflict;
      case "locked":
        return T.locked;
      case "updated":
        return T.updated;
      default:
        return "";
    }
  }

  function setState(cell, state, message = "") {
    if (state) cell.dataset.state = state;
    else delete cell.dataset.state;
    const words = stateWords(state);
    const text = words && message ? `${words}: ${message}` : words || message;
    cell.dataset.message = text;
    if (cell.dataset.type === "text") cell.title = [textOf(cell), text].filter(Boolean).join(" — ");
    else if (text) cell.title = text;
    else cell.removeAttribute("title");
    let spoken = cell.querySelector(".gb-state");
    if (!spoken) {
      spoken = document.createElement("span");
      spoken.className = "visually-hidden gb-state";
      cell.appendChild(spoken);
    }
    spoken.textContent = text;
    if (["invalid", "conflict", "locked"].includes(state)) cell.setAttribute("aria-invalid", "true");
    else cell.removeAttribute("aria-invalid");
    if (cell === active) updateBar(cell);
  }

  function updateBar(cell) {
    if (!bar) return;
    bar.hidden = false;
    const row = cell.closest("tr");
    barWhere.textContent = `${headerOf(cell)} · ${row.dataset.name || ""}`;
    const words = cell.dataset.message || (cell.dataset.computed ? T.computedHint : "");
    barState.textContent = words || (isEditable(cell) ? "" : T.readOnly);
    barState.dataset.state = cell.dataset.state || "";
    if (historyButton) historyButton.hidden = !cell.dataset.key;
  }

  // The lock panel's "filled of required" count follows the grid: required cells are the
  // non-comment cells of students still in the class (as gradebook/completeness.py counts).
  function refreshProgress() {
    const count = document.getElementById("lock-panel-count");
    const progress = document.getElementById("lock-panel-progress");
    if (!count || !progress || !count.dataset.format) return;
    const cells = table.querySelectorAll('tr:not(.gb-left) td.gb-cell:not([data-type="text"])');
    const filled = Array.from(cells).filter((cell) => cell.dataset.value).length;
    const percent = cells.length ? Math.round((100 * filled) / cells.length) : 100;
    count.textContent = count.dataset.format
      .replace("{filled}", filled)
      .replace("{required}", cells.length);
    progress.setAttribute("aria-valuenow", percent);
    const bar = progress.querySelector(".progress-bar");
    bar.style.width = `${percent}%`;
    bar.classList.toggle("bg-success", filled === cells.length);
  }

  function updateRow(row, computed) {
    if (!row || !computed) return;
    for (const [id, result] of Object.entries(computed)) {
      const cell = row.querySelector(`td[data-computed="${id}"]`);
      if (!cell) continue;
      cell.dataset.value = result.value;
      const link = cell.querySelector("a");
      (link || cell).textContent = result.display || "—";
    }
  }

  // --- The queue: persisted, sent in order, one request at a time ----------------------------

  let queue = [];
  let conflicts = {}; // cell id → {student, column, mine}
  let nextId = 1;
  let sending = false;
  let paused = false;
  let backoff = 0;
  let retryTimer = null;
  let sessionLost = false;
  let lastNote = "";

  function persist() {
    try {
      if (queue.length || Object.keys(conflicts).length)
        localStorage.setItem(STORAGE_KEY, JSON.stringify({ queue, conflicts }));
      else localStorage.removeItem(STORAGE_KEY);
    } catch (error) {
      // Storage full or disabled: the queue still lives in memory and beforeunload warns.
    }
  }

  function restore() {
    let stored = null;
    try {
      stored = JSON.parse(localStorage.getItem(STORAGE_KEY) || "null");
    } catch (error) {
      stored = null;
    }
    if (!stored) return;
    for (const entry of stored.queue || []) {
      const cell = findCell(entry.student, entry.column);
      if (!cell) continue;
      entry.id = nextId++;
      queue.push(entry);
      setText(cell, entry.value);
      setState(cell, "queued");
    }
    for (const item of Object.values(stored.conflicts || {})) {
      const cell = findCell(item.student, item.column);
      if (cell && same(item.mine, cell.dataset.value) === false)
        showConflict(cell, item.mine, textOf(cell));
    }
    persist();
  }

  function same(typed, value) {
    const norm = (text) => String(text ?? "").trim().replace(",", ".").toUpperCase();
    return norm(typed) === norm(value);
  }

  function hasPending(cell) {
    const id = cellId(cell);
    return queue.some((entry) => `${entry.student}|${entry.column}` === id);
  }

  function enqueue(cell, value) {
    const row = cell.closest("tr");
    const id = cellId(cell);
    if (conflicts[id]) clearConflict(cell);
    queue.push({
      id: nextId++,
      student: row.dataset.student,
      column: cell.dataset.key,
      value,
      base: Number(cell.dataset.version),
    });
    setText(cell, value);
    setState(cell, "queued");
    persist();
    updateStatus();
    pump();
  }

  /** A finished edit: queue it unless nothing changed. Returns whether it was queued. */
  function commit(cell, text) {
    if (!isEditable(cell)) return false;
    const id = cellId(cell);
    if (!conflicts[id] && text === textOf(cell)) return false;
    enqueue(cell, text);
    return true;
  }

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    try {
      return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  }

  async function readJson(response) {
    const type = response.headers.get("Content-Type") || "";
    if (!type.includes("application/json")) return null;
    try {
      return await response.json();
    } catch (error) {
      return null;
    }
  }

  async function pump() {
    if (sending || paused || !queue.length) {
      updateStatus();
      return;
    }
    const entry = queue[0];
    const cell = findCell(entry.student, entry.column);
    if (!cell) {
      queue.shift();
      persist();
      pump();
      return;
    }
    sending = true;
    setState(cell, "saving");
    let response;
    let data;
    try {
      response = await fetch(SAVE_URL, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "X-CSRFToken": csrfToken(),
        },
        body: JSON.stringify({
          student: entry.student,
          column: entry.column,
          value: entry.value,
          version: entry.base,
        }),
      });
      data = await readJson(response);
    } catch (error) {
      sending = false;
      connectionLost();
      return;
    }
    sending = false;
    if (data === null && (response.redirected || response.status === 401)) {
      sessionLost = true; // the login page: keep everything, retry once the user is back
      connectionLost();
      return;
    }
    sessionLost = false;
    let status = response.status;
    if (status >= 500 || response.status === 429 || (data === null && response.ok)) {
      entry.failures = (entry.failures || 0) + 1;
      if (entry.failures < MAX_SERVER_FAILURES) {
        connectionLost();
        return;
      }
      data = { error: `${T.serverError} (HTTP ${status})` }; // give up on this one
      status = 500;
    }
    backoff = 0;
    queue.shift();
    answer(entry, cell, status, data || {});
    persist();
    updateStatus();
    pump();
  }

  function answer(entry, cell, status, data) {
    const id = cellId(cell);
    const later = queue.filter((other) => `${other.student}|${other.column}` === id);
    if (status === 200) {
      for (const other of later) if (other.base === entry.base) other.base = data.version;
      cell.dataset.version = data.version;
      cell.dataset.value = data.value;
      updateRow(cell.closest("tr"), data.row);
      refreshProgress();
      if (!later.length) {
        setText(cell, data.display);
        setState(cell, "saved");
        lastNote = "saved";
      } else {
        setState(cell, "queued");
      }
      return;
    }
    if (status === 409) {
      queue = queue.filter((other) => `${other.student}|${other.column}` !== id);
      const mine = later.length ? later[later.length - 1].value : entry.value;
      cell.dataset.version = data.version;
      cell.dataset.value = data.value;
      showConflict(cell, mine, data.display);
      return;
    }
    if (status === 423) {
      cell.dataset.locked = "1";
      cell.setAttribute("aria-readonly", "true");
      setState(cell, "locked", data.message || "");
      return;
    }
    const reason = data.error || data.message || (status === 403 ? T.denied : `HTTP ${status}`);
    setState(cell, later.length ? "queued" : "invalid", reason);
  }

  function connectionLost() {
    paused = true;
    for (const entry of queue) {
      const cell = findCell(entry.student, entry.column);
      if (cell) setState(cell, "queued");
    }
    backoff = Math.min(backoff ? backoff * 2 : 1000, MAX_BACKOFF_MS);
    clearTimeout(retryTimer);
    retryTimer = setTimeout(resume, backoff);
    updateStatus();
  }

  function resume() {
    clearTimeout(retryTimer);
    paused = false;
    pump();
  }

  function updateStatus() {
    if (!statusEl) return;
    const count = queue.length;
    let text = "";
    let kind = "";
    if (sessionLost) {
      text = `${T.sessionExpired} ${fmt(T.pending, { count })}`;
      kind = "danger";
    } else if (!navigator.onLine && (count || paused)) {
      text = `${T.offlineBanner} ${fmt(T.pending, { count })}`;
      kind = "warning";
    } else if (paused && count) {
      text = `${fmt(T.retrying, { seconds: Math.round(backoff / 1000) })} ${fmt(T.pending, { count })}`;
      kind = "warning";
    } else if (count) {
      text = fmt(T.pending, { count });
      kind = "info";
    }
    const refused = table.querySelectorAll('td[data-state="invalid"], td[data-state="locked"]');
    const conflicted = Object.keys(conflicts).length;
    if (!sessionLost && (refused.length || conflicted)) {
      const notes = [];
      if (refused.length) notes.push(fmt(T.notSaved, { count: refused.length }));
      if (conflicted) notes.push(fmt(T.conflicts, { count: conflicted }));
      text = [text, ...notes].filter(Boolean).join(" ");
      kind = "danger";
    } else if (!text && lastNote === "saved") {
      text = T.allSaved;
      kind = "success";
    }
    statusEl.textContent = text;
    statusEl.dataset.pending = String(count);
    statusEl.className = `gb-status small mb-2${kind ? ` alert alert-${kind} py-1 px-2` : ""}`;
  }

  window.addEventListener("online", () => {
    backoff = 0;
    resume();
    poll();
  });
  window.addEventListener("offline", () => {
    paused = true;
    for (const entry of queue) {
      const cell = findCell(entry.student, entry.column);
      if (cell) setState(cell, "queued");
    }
    clearTimeout(retryTimer);
    retryTimer = setTimeout(resume, MAX_BACKOFF_MS);
    updateStatus();
  });
  window.addEventListener("beforeunload", (event) => {
    const typing = editing && editing.input && editing.input.value !== editing.original;
    if (queue.length || sending || typing || Object.keys(conflicts).length) {
      event.preventDefault();
      event.returnValue = T.unsent;
      return T.unsent;
    }
    return undefined;
  });

  // --- Conflicts -----------------------------------------------------------------------------

  function showConflict(cell, mine, theirsDisplay) {
    const row = cell.closest("tr");
    conflicts[cellId(cell)] = { student: row.dataset.student, column: cell.dataset.key, mine };
    cell.querySelector(".gb-conflict")?.remove();
    const box = document.createElement("div");
    box.className = "gb-conflict";
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", T.conflict);
    const line = (label, value, className) => {
      const div = document.createElement("div");
      div.append(`${label}: `);
      const strong = document.createElement("strong");
      strong.className = className;
      strong.textContent = value === "" ? T.empty : value;
      div.append(strong);
      return div;
    };
    box.append(line(T.theirs, theirsDisplay, "gb-theirs"), line(T.mine, mine, "gb-mine"));
    const keep = document.createElement("button");
    keep.type = "button";
    keep.className = "btn btn-warning gb-keep-mine me-1";
    keep.textContent = T.keepMine;
    const take = document.createElement("button");
    take.type = "button";
    take.className = "btn btn-outline-secondary gb-take-theirs";
    take.textContent = T.takeTheirs;
    take.dataset.display = theirsDisplay;
    box.append(keep, take);
    setText(cell, theirsDisplay);
    cell.querySelector(".gb-text").hidden = true;
    cell.appendChild(box);
    setState(cell, "conflict");
    persist();
  }

  function clearConflict(cell) {
    delete conflicts[cellId(cell)];
    cell.querySelector(".gb-conflict")?.remove();
    cell.querySelector(".gb-text").hidden = false;
    persist();
  }

  function resolve(cell, keepMine) {
    const item = conflicts[cellId(cell)];
    if (!item) return;
    const theirs = cell.querySelector(".gb-take-theirs").dataset.display;
    clearConflict(cell);
    if (keepMine) {
      enqueue(cell, item.mine);
    } else {
      setText(cell, theirs);
      setState(cell, "updated");
    }
    focusCell(cell);
  }

  // --- Editing in place ----------------------------------------------------------------------

  let editing = null; // {cell, input, original, mode} or {cell, comment: true}

  function startEdit(cell, initial) {
    if (!isEditable(cell) || editing) return;
    if (cell.dataset.type === "text") {
      openCommentEditor(cell, initial);
      return;
    }
    const input = document.createElement("input");
    input.type = "text";
    input.className = "gb-input";
    input.autocomplete = "off";
    input.spellcheck = false;
    if (["score", "test", "count"].includes(cell.dataset.type)) input.inputMode = "decimal";
    input.setAttribute("aria-label", `${headerOf(cell)} · ${cell.closest("tr").dataset.name}`);
    const original = textOf(cell);
    input.value = initial ?? original;
    editing = { cell, input, original, mode: initial == null ? "edit" : "replace" };
    cell.appendChild(input);
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
    input.addEventListener("blur", () => {
      if (editing && editing.input === input) finishEdit(true, null, false);
    });
  }

  /** Close the in-place editor; save or not; then move ("down", "up", "right", "left"). */
  function finishEdit(save, where, refocus = true) {
    const { cell, input } = editing;
    editing = null;
    const text = input.value;
    input.remove();
    if (save) commit(cell, text);
    if (!refocus) return;
    if (where === "down" || where === "up") moveDown(cell, where === "up");
    else if (where === "right" || where === "left") {
      if (!tabMove(cell, where === "right" ? 1 : -1)) focusCell(cell);
    } else if (where) move(cell, where === "arrow-up" ? -1 : where === "arrow-down" ? 1 : 0, 0);
    else focusCell(cell);
  }

  function onEditorKey(event) {
    const { mode, input } = editing;
    switch (event.key) {
      case "Enter":
        event.preventDefault();
        finishEdit(true, event.shiftKey ? "up" : "down");
        break;
      case "Tab":
        event.preventDefault();
        finishEdit(true, event.shiftKey ? "left" : "right");
        break;
      case "Escape":
        event.preventDefault();
        input.value = editing.original;
        finishEdit(false, null);
        break;
      case "ArrowUp":
      case "ArrowDown":
        event.preventDefault();
        finishEdit(true, event.key === "ArrowUp" ? "arrow-up" : "arrow-down");
        break;
      case "ArrowLeft":
      case "ArrowRight":
        if (mode === "replace") {
          event.preventDefault();
          tabStart = null;
          const cell = editing.cell;
          finishEdit(true, null);
          move(cell, 0, event.key === "ArrowLeft" ? -1 : 1);
        }
        break;
      default:
        break;
    }
  }

  // --- The comment editor (a popover with a counter and the comment bank) --------------------

  const editor = document.getElementById("gb-comment-editor");
  const editorText = document.getElementById("gb-editor-text");
  const editorCount = document.getElementById("gb-editor-count");
  const editorPhrases = document.getElementById("gb-editor-phrases");
  const editorSave = document.getElementById("gb-editor-save");
  const editorStudent = document.getElementById("gb-editor-student");

  function collapsedLength(text) {
    return text.trim().split(/\s+/).filter(Boolean).join(" ").length;
  }

  function countCharacters() {
    const count = collapsedLength(editorText.value);
    const over = count > COMMENT_MAX;
    editorCount.textContent =
      fmt(T.characters, { count, max: COMMENT_MAX }) + (over ? ` · ${T.tooLong}` : "");
    editorCount.classList.toggle("over", over);
    editorSave.disabled = over;
  }

  function rowLevel(row) {
    for (const source of LEVEL_FROM) {
      const cell = row.querySelector(`td[data-key="${source}"], td[data-computed="${source}"]`);
      if (cell && cell.dataset.value) return cell.dataset.value;
    }
    return "";
  }

  function fillPhrases(row) {
    while (editorPhrases.options.length > 1) editorPhrases.remove(1);
    const level = rowLevel(row);
    const name = row.dataset.givenName || "";
    const fits = PHRASES.filter((p) => !level || !p.level || p.level === level);
    fits.sort((a, b) => Number(b.level === level) - Number(a.level === level));
    for (const phrase of fits) {
      const option = document.createElement("option");
      option.value = phrase.text.replaceAll("{name}", name);
      option.textContent = (phrase.level ? `[${phrase.level}] ` : "") + option.value;
      editorPhrases.append(option);
    }
    editorPhrases.hidden = fits.length === 0;
  }

  function openCommentEditor(cell, initial) {
    if (!editor) return;
    const row = cell.closest("tr");
    editing = { cell, comment: true, original: textOf(cell) };
    editorText.value = initial ?? textOf(cell);
    editorStudent.textContent = row.dataset.name || "";
    fillPhrases(row);
    editor.hidden = false;
    const rect = cell.getBoundingClientRect();
    const width = editor.offsetWidth;
    const left = Math.max(8, Math.min(rect.left, window.innerWidth - width - 8));
    editor.style.left = `${left + window.scrollX}px`;
    editor.style.top = `${rect.bottom + window.scrollY + 2}px`;
    countCharacters();
    editorText.focus();
    editorText.setSelectionRange(editorText.value.length, editorText.value.length);
  }

  function closeCommentEditor(save, refocus = true) {
    if (!editing || !editing.comment) return;
    const { cell } = editing;
    editing = null;
    editor.hidden = true;
    if (save && collapsedLength(editorText.value) <= COMMENT_MAX) commit(cell, editorText.value);
    if (refocus) focusCell(cell);
  }

  if (editor) {
    editorText.addEventListener("input", countCharacters);
    editorText.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        closeCommentEditor(false);
      } else if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        closeCommentEditor(true);
      }
    });
    editor.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        closeCommentEditor(false);
      }
    });
    editorPhrases.addEventListener("change", () => {
      const phrase = editorPhrases.value;
      if (!phrase) return;
      const start = editorText.selectionStart;
      const before = editorText.value.slice(0, start);
      const after = editorText.value.slice(editorText.selectionEnd);
      const glue = before && !/\s$/.test(before) ? " " : "";
      editorText.value = before + glue + phrase + after;
      const caret = (before + glue + phrase).length;
      editorPhrases.value = "";
      editorText.focus();
      editorText.setSelectionRange(caret, caret);
      countCharacters();
    });
    editorSave.addEventListener("click", () => closeCommentEditor(true));
    document.getElementById("gb-editor-cancel").addEventListener("click", () =>
      closeCommentEditor(false),
    );
    editor.addEventListener("focusout", (event) => {
      // Leaving the editor for elsewhere on the page saves, as leaving a cell does.
      if (editing && editing.comment && !editor.contains(event.relatedTarget) && event.relatedTarget)
        closeCommentEditor(true, false);
    });
  }

  // --- Keyboard ------------------------------------------------------------------------------

  function onCellKey(event, cell) {
    const key = event.key;
    const plain = !event.ctrlKey && !event.metaKey && !event.altKey;
    if (key.startsWith("Arrow")) {
      event.preventDefault();
      tabStart = null;
      if (key === "ArrowUp") move(cell, -1, 0);
      else if (key === "ArrowDown") move(cell, 1, 0);
      else move(cell, 0, key === "ArrowLeft" ? -1 : 1);
    } else if (key === "Tab") {
      if (tabMove(cell, event.shiftKey ? -1 : 1)) event.preventDefault();
    } else if (key === "Enter") {
      event.preventDefault();
      if (cell.dataset.computed) cell.querySelector("a")?.click();
      else if (cell.dataset.state === "conflict") cell.querySelector(".gb-keep-mine")?.focus();
      else moveDown(cell, event.shiftKey);
    } else if (key === "Home" || key === "End") {
      event.preventDefault();
      const [r] = POSITION.get(cell);
      const row = event.ctrlKey ? (key === "Home" ? 0 : GRID.length - 1) : r;
      focusCell(cellAt(row, key === "Home" ? 0 : GRID[row].length - 1));
    } else if (key === "PageUp" || key === "PageDown") {
      event.preventDefault();
      move(cell, key === "PageUp" ? -10 : 10, 0);
    } else if (key === "F2") {
      event.preventDefault();
      startEdit(cell, null);
    } else if ((key === "Delete" || key === "Backspace") && plain) {
      event.preventDefault();
      if (isEditable(cell) && (textOf(cell) !== "" || cell.dataset.value !== "")) commit(cell, "");
    } else if (key.length === 1 && plain && cell.dataset.key && isEditable(cell)) {
      event.preventDefault();
      startEdit(cell, key);
    }
  }

  table.addEventListener("keydown", (event) => {
    const cell = event.target.closest(CELL);
    if (!cell || !POSITION.has(cell)) return;
    if (editing && event.target === editing.input) {
      onEditorKey(event);
      return;
    }
    if (event.target.closest(".gb-conflict")) {
      if (event.key === "Escape") {
        event.preventDefault();
        focusCell(cell);
      }
      return;
    }
    onCellKey(event, cell);
  });

  table.addEventListener("focusin", (event) => {
    const cell = event.target.closest(CELL);
    if (cell && POSITION.has(cell) && cell !== active) {
      if (active) active.tabIndex = -1;
      active = cell;
      cell.tabIndex = 0;
      updateBar(cell);
    } else if (cell === active) {
      updateBar(cell);
    }
  });

  // --- Pointer: click focuses, a second click / double-click / a tap edits -------------------

  let downOnActive = false;
  let lastPointer = "mouse";
  table.addEventListener("pointerdown", (event) => {
    lastPointer = event.pointerType || "mouse";
    const cell = event.target.closest(CELL);
    downOnActive = Boolean(cell && cell === document.activeElement);
  });
  table.addEventListener("click", (event) => {
    const keep = event.target.closest(".gb-keep-mine");
    const take = event.target.closest(".gb-take-theirs");
    if (keep || take) {
      resolve(event.target.closest(CELL), Boolean(keep));
      return;
    }
    const cell = event.target.closest(CELL);
    if (!cell || !POSITION.has(cell) || (editing && editing.cell === cell)) return;
    if (event.target.closest("a")) {
      if (event.target.closest(".gb-explain") && modalTitle) {
        modalTitle.textContent = explainTitle;
        modalBody.textContent = "…";
      }
      if (cell !== active) {
        if (active) active.tabIndex = -1;
        active = cell;
        cell.tabIndex = 0;
      }
      return;
    }
    tabStart = null;
    focusCell(cell);
    if ((downOnActive || lastPointer === "touch" || lastPointer === "pen") && isEditable(cell))
      startEdit(cell, null);
  });
  table.addEventListener("dblclick", (event) => {
    const cell = event.target.closest("td[data-key]");
    if (cell && !editing && isEditable(cell)) startEdit(cell, null);
  });

  // --- Clipboard: paste a TSV block from the focused cell; copy the focused cell -------------

  function parseTsv(text) {
    const rows = [];
    let row = [];
    let field = "";
    let quoted = false;
    const source = text.replace(/\r\n?/g, "\n");
    for (let i = 0; i < source.length; i += 1) {
      const ch = source[i];
      if (quoted) {
        if (ch === '"' && source[i + 1] === '"') {
          field += '"';
          i += 1;
        } else if (ch === '"') quoted = false;
        else field += ch;
      } else if (ch === '"' && field === "") quoted = true;
      else if (ch === "\t") {
        row.push(field);
        field = "";
      } else if (ch === "\n") {
        row.push(field);
        rows.push(row);
        row = [];
        field = "";
      } else field += ch;
    }
    if (field !== "" || row.length) {
      row.push(field);
      rows.push(row);
    }
    return rows;
  }

  function gridCellInFocus(event) {
    const target = event.target instanceof Element ? event.target.closest(CELL) : null;
    if (target && POSITION.has(target)) return target;
    const focused = document.activeElement;
    return focused && POSITION.has(focused) ? focused : null;
  }

  document.addEventListener("paste", (event) => {
    const start = gridCellInFocus(event);
    if (!start || editing || !writable) return;
    const text = event.clipboardData ? event.clipboardData.getData("text/plain") : "";
    if (!text) return;
    event.preventDefault();
    const [r0, c0] = POSITION.get(start);
    let pasted = 0;
    let skipped = 0;
    parseTsv(text).forEach((line, i) =>
      line.forEach((value, j) => {
        const target = cellAt(r0 + i, c0 + j);
        if (!target || !target.dataset.key || !isEditable(target)) skipped += 1;
        else {
          commit(target, value.trim());
          pasted += 1;
        }
      }),
    );
    const note = [fmt(T.pasted, { count: pasted })];
    if (skipped) note.push(fmt(T.skipped, { count: skipped }));
    announce(note.join(" "));
  });

  document.addEventListener("copy", (event) => {
    const cell = gridCellInFocus(event);
    if (!cell || editing || !event.clipboardData) return;
    event.preventDefault();
    const value = cell.dataset.key ? textOf(cell) : cell.textContent.trim();
    event.clipboardData.setData("text/plain", value);
  });

  function announce(text) {
    if (!statusEl) return;
    statusEl.textContent = text;
    statusEl.className = "gb-status small mb-2 alert alert-info py-1 px-2";
    setTimeout(updateStatus, 4000);
  }

  // --- Other people's changes: polling ------------------------------------------------------

  let polling = false;

  function busy(cell) {
    const id = cellId(cell);
    return (
      (editing && editing.cell === cell) ||
      hasPending(cell) ||
      Boolean(conflicts[id]) ||
      ["invalid", "saving", "queued", "locked"].includes(cell.dataset.state)
    );
  }

  function applyRemote(change) {
    const cell = findCell(change.student, change.column);
    if (!cell || Number(change.version) <= Number(cell.dataset.version) || busy(cell)) return;
    cell.dataset.version = change.version;
    cell.dataset.value = change.value;
    setText(cell, change.display);
    setState(cell, "updated");
    refreshProgress();
  }

  function lockGrid() {
    writable = false;
    table.dataset.writable = "0";
    for (const cells of GRID)
      for (const cell of cells)
        if (cell.dataset.key) {
          cell.dataset.locked = "1";
          cell.setAttribute("aria-readonly", "true");
        }
    let mode = document.getElementById("gb-mode");
    if (!mode) {
      mode = document.createElement("p");
      mode.id = "gb-mode";
      (scroller || table).before(mode);
    }
    mode.className = "gb-mode small mb-2 alert alert-warning py-1 px-2";
    mode.setAttribute("role", "status");
    mode.textContent = T.lockedNow;
  }

  async function poll() {
    if (polling || document.hidden || !CHANGES_URL) return;
    polling = true;
    try {
      const response = await fetch(`${CHANGES_URL}?since=${encodeURIComponent(cursor)}`, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      const data = await readJson(response);
      if (response.ok && data) {
        cursor = String(data.cursor);
        for (const change of data.cells) applyRemote(change);
        for (const [student, computed] of Object.entries(data.rows)) updateRow(rowOf(student), computed);
        if (data.locked && writable) lockGrid();
      }
    } catch (error) {
      // Offline: the next poll (or the "online" event) catches up from the same cursor.
    } finally {
      polling = false;
    }
  }

  setInterval(poll, POLL_MS);
  window.addEventListener("focus", poll);
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) poll();
  });

  // --- History and explanations in the dialog -----------------------------------------------

  if (historyButton && modalEl && window.bootstrap) {
    historyButton.addEventListener("click", async () => {
      if (!active || !active.dataset.key) return;
      const student = active.closest("tr").dataset.student;
      const url = historyButton.dataset.url.replace(/\/students\/0\//, `/students/${student}/`);
      modalTitle.textContent = historyButton.textContent.trim();
      modalBody.textContent = "…";
      window.bootstrap.Modal.getOrCreateInstance(modalEl).show();
      try {
        const response = await fetch(`${url}?column=${encodeURIComponent(active.dataset.key)}`, {
          credentials: "same-origin",
          headers: { "HX-Request": "true" },
        });
        modalBody.innerHTML = await response.text();
      } catch (error) {
        modalBody.textContent = T.offline;
      }
    });
  }

  // --- Start ---------------------------------------------------------------------------------

  for (const link of table.querySelectorAll(".gb-row-link")) link.tabIndex = -1;
  restore();
  updateStatus();
  pump();
})();
