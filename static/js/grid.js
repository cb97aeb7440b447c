/* Sổ điểm: the gradebook grid.
 *
 * A spreadsheet over a server-rendered table (role="grid"): arrow keys, Enter, Tab, typing
 * replaces, F2 / double-click / tap edits, Escape cancels, Delete clears, TSV paste; a range
 * (Shift+arrows, a mouse drag, Shift+click) copies out as TSV and fills down (Ctrl+D); Ctrl+Z /
 * Ctrl+Y undo and redo this page's own changes, each undo an ordinary versioned save.
 * Every change is queued (kept in localStorage under this tab's own key, static/js/grid_store.js,
 * so a reload, a crash or a second tab loses nothing; a closed tab's queue is adopted and sent by
 * another tab of the grid) and sent in order, one request at a time; a network failure pauses the queue, which retries with
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
  const STORAGE_PREFIX = `sodiem.grid.v1:${table.dataset.user}:${location.pathname}`;
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
  const WRITABLE_AT_LOAD = writable; // a lock found by polling is news only then
  let lockNote = ""; // the lock's message once the book was locked while the page was open
  const unsaved = new Map(); // cell id → {cell, typed}: refused because of that lock
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

  function focusCell(cell, keepRange = false) {
    if (!cell) return;
    if (!keepRange && anchor) clearRange();
    if (window.SodiemGridFilter) cell = window.SodiemGridFilter.visible(cell, active); // rows the search hid: grid_extras.js
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

  // --- A selected range: the rectangle from `anchor` to the active cell ----------------------

  let anchor = null; // the range's other corner; null: the active cell alone
  let painted = [];

  /** The range as {r0, r1, c0, c1}, or null when no more than the active cell is selected. */
  function range() {
    if (!anchor || !active || anchor === active) return null;
    const [ra, ca] = POSITION.get(anchor);
    const [rb, cb] = POSITION.get(active);
    return { r0: Math.min(ra, rb), r1: Math.max(ra, rb), c0: Math.min(ca, cb), c1: Math.max(ca, cb) };
  }

  /** The rows of a range that are shown (the search box hides some: grid_extras.js). */
  function shownRows(rect) {
    const rows = [];
    for (let r = rect.r0; r <= rect.r1; r += 1) if (!ROWS[r].hidden) rows.push(r);
    return rows;
  }

  /** The cells of a range's shown rows, row by row. */
  function cellsOf(rect) {
    const cells = [];
    for (const r of shownRows(rect))
      for (let c = rect.c0; c <= rect.c1; c += 1) if (cellAt(r, c)) cells.push(cellAt(r, c));
    return cells;
  }

  function paint() {
    for (const cell of painted) {
      cell.classList.remove("gb-selected");
      cell.removeAttribute("aria-selected");
    }
    const rect = range();
    painted = rect ? cellsOf(rect) : [];
    for (const cell of painted) {
      cell.classList.add("gb-selected");
      cell.setAttribute("aria-selected", "true");
    }
  }

  function selectRange(from, to) {
    anchor = from;
    focusCell(to, true);
    paint();
  }

  function clearRange() {
    anchor = null;
    paint();
  }

  function extendRange(dr, dc) {
    const [r, c] = POSITION.get(active);
    const target = cellAt(Math.max(0, Math.min(GRID.length - 1, r + dr)), c + dc);
    if (target) selectRange(anchor || active, target);
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
    if (!bar) return; // its place is kept from the start: showing it moves nothing
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
  let ready = false; // this tab's stored queue is back (the store has found this tab's key)
  let sending = false;
  let paused = false;
  let backoff = 0;
  let retryTimer = null;
  let sessionLost = false;
  let lastNote = "";
  let notice = null; // {text, kind, until}: announce()

  const store = window.SodiemGridStore
    ? window.SodiemGridStore.open(STORAGE_PREFIX, (entries, stored) => {
        takeBack(entries, stored, true);
      })
    : null;
  const SAVED = new WeakMap(); // cell → the display of its value as the server last gave it

  function persist() {
    if (store) store.save(queue, conflicts);
  }

  /** Show what the server has for a cell before it shows a change not saved yet. */
  function rememberSaved(cell) {
    if (!SAVED.has(cell)) SAVED.set(cell, textOf(cell));
  }

  /** Changes kept in the browser: this tab's own from before a reload, or (`adopted`) those of
   * a tab of this grid that was closed before it could send them. */
  function takeBack(entries, stored, adopted) {
    const taken = [];
    for (const entry of entries) {
      const cell = findCell(entry.student, entry.column);
      if (!cell) continue;
      entry.id = nextId++;
      taken.push(entry);
      rememberSaved(cell);
      setText(cell, entry.value);
      setState(cell, "queued");
    }
    // Kept changes were typed before the ones of this page: they go first, unless adopted
    // from another tab while this one was already sending its own.
    queue = adopted ? queue.concat(taken) : taken.concat(queue);
    for (const item of Object.values(stored || {})) {
      const cell = findCell(item.student, item.column);
      if (cell && same(item.mine, cell.dataset.value) === false)
        showConflict(cell, item.mine, textOf(cell));
    }
    persist();
    updateStatus();
    pump();
  }

  function restore() {
    if (!store) {
      ready = true;
      return;
    }
    store.start().then(({ queue: entries, conflicts: stored }) => {
      const mine = store.id();
      for (const entry of queue) if (!entry.origin) entry.origin = mine; // typed meanwhile
      ready = true;
      takeBack(entries, stored, false);
    });
  }

  function same(typed, value) {
    const norm = (text) => String(text ?? "").trim().replace(",", ".").toUpperCase();
    return norm(typed) === norm(value);
  }

  function hasPending(cell) {
    const id = cellId(cell);
    return queue.some((entry) => `${entry.student}|${entry.column}` === id);
  }

  function enqueue(cell, value, base = Number(cell.dataset.version)) {
    const row = cell.closest("tr");
    const id = cellId(cell);
    if (conflicts[id]) clearConflict(cell);
    queue.push({
      id: nextId++,
      student: row.dataset.student,
      column: cell.dataset.key,
      value,
      base,
      origin: store ? store.id() : null, // the tab it was typed in (see answer())
    });
    rememberSaved(cell);
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
    const refused = ["invalid", "locked"].includes(cell.dataset.state) && SAVED.has(cell);
    const before = refused ? SAVED.get(cell) : textOf(cell); // what the server has, shown
    enqueue(cell, text);
    record({ cell, before, after: text });
    return true;
  }

  // --- Undo and redo: this page's own changes, each step sent as an ordinary save ------------

  const UNDO_MAX = 100;
  const undoSteps = [];
  const redoSteps = [];
  const OWN = new WeakMap(); // cell → the version this page's last save of it made
  let step = null; // the changes of a paste or a fill being made: one step

  function record(change) {
    if (step) step.push(change);
    else keepStep([change]);
  }

  function keepStep(changes) {
    if (!changes.length) return;
    undoSteps.push(changes);
    if (undoSteps.length > UNDO_MAX) undoSteps.shift();
    redoSteps.length = 0;
  }

  /** Run `work`, its changes one undo step. */
  function asOneStep(work) {
    step = [];
    try {
      work();
    } finally {
      const changes = step;
      step = null;
      keepStep(changes);
    }
  }

  /** Undo (`back`) or redo the last step. Each cell is saved over the version this page's own
   * last save made (or after its change still queued): if someone else saved the cell since,
   * the server answers with a conflict, shown as any other, never overwritten. */
  function replay(back) {
    const changes = (back ? undoSteps : redoSteps).pop();
    if (!changes) {
      announce(back ? T.nothingToUndo : T.nothingToRedo);
      return;
    }
    let skipped = 0;
    for (const { cell, before, after } of changes) {
      if (!isEditable(cell) || conflicts[cellId(cell)]) {
        skipped += 1;
        continue;
      }
      const id = cellId(cell);
      const queued = queue.filter((entry) => `${entry.student}|${entry.column}` === id).pop();
      const base = queued ? queued.base : OWN.get(cell); // a queued one: this follows it
      enqueue(cell, back ? before : after, base ?? Number(cell.dataset.version));
    }
    (back ? redoSteps : undoSteps).push(changes);
    focusCell(changes[0].cell);
    const count = changes.length - skipped;
    const note = [fmt(back ? T.undone : T.redone, { count })];
    if (skipped) note.push(fmt(T.notReplayed, { count: skipped }));
    announce(note.join(" "), skipped ? "warning" : "info");
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
    if (sending || paused || !ready || !queue.length) {
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
      // A later change of the cell typed in the same tab was typed over this one: it follows
      // it. One adopted from another tab was typed over what that tab saw: its base stays, so
      // the server tells a conflict.
      for (const other of later)
        if (other.base === entry.base && other.origin === entry.origin) other.base = data.version;
      OWN.set(cell, Number(data.version));
      cell.dataset.version = data.version;
      cell.dataset.value = data.value;
      SAVED.set(cell, data.display);
      updateRow(cell.closest("tr"), data.row);
      refreshProgress();
      if (data.warning) announce(data.warning, "warning"); // saved, but worth a second look
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
      SAVED.set(cell, data.display);
      showConflict(cell, mine, data.display);
      return;
    }
    if (status === 423) {
      // Locked meanwhile: the cell shows what is saved, the status the reason and what was
      // typed, the whole grid and the lock panel the lock (the poll tells which kind).
      queue = queue.filter((other) => `${other.student}|${other.column}` !== id);
      const typed = later.length ? later[later.length - 1].value : entry.value;
      lockGrid(data.message || "", null);
      refuseLocked(cell, typed);
      poll();
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

  const quoted = (values, most = 10) =>
    values
      .slice(0, most)
      .map((value) => `“${value}”`)
      .join(", ") + (values.length > most ? ` … (+${values.length - most})` : "");

  function describeUnsaved() {
    return Array.from(unsaved.values())
      .map(({ cell, typed }) => `${headerOf(cell)} · ${cell.closest("tr").dataset.name}: ${quoted([typed])}`)
      .join("; ");
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
    // Refused values: the invalid ones counted (each cell says why), those the lock refused
    // named with what was typed (it is nowhere else once the cell shows the saved value).
    const invalid = table.querySelectorAll('td[data-state="invalid"]').length;
    const conflicted = Object.keys(conflicts).length;
    if (!sessionLost && (invalid || unsaved.size || conflicted || lockNote)) {
      const notes = [lockNote];
      if (invalid) notes.push(fmt(T.notSaved, { count: invalid }));
      if (unsaved.size) notes.push(fmt(T.typedNotSavedList, { cells: describeUnsaved() }));
      if (conflicted) notes.push(fmt(T.conflicts, { count: conflicted }));
      text = [text, ...notes].filter(Boolean).join(" ");
      kind = invalid || unsaved.size || conflicted ? "danger" : "warning";
    } else if (!text && lastNote === "saved") {
      text = T.allSaved;
      kind = "success";
    }
    if (notice && Date.now() < notice.until) {
      text = [notice.text, text].filter(Boolean).join(" ");
      if (!kind || kind === "success" || kind === "info") kind = notice.kind;
    }
    statusEl.textContent = text;
    statusEl.title = text; // the whole text, should the status line cut it
    statusEl.dataset.pending = String(count);
    statusEl.className = `gb-status small${kind ? ` alert alert-${kind} py-1 px-2` : ""}`;
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
    if (anchor) clearRange();
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

  /** Shift+arrows, Escape on a range, Ctrl+Z / Ctrl+Y / Ctrl+Shift+Z, Ctrl+D: whether the key
   * was one of them. */
  function onRangeKey(event, cell) {
    const key = event.key;
    const ctrl = (event.ctrlKey || event.metaKey) && !event.altKey;
    if (key.startsWith("Arrow") && event.shiftKey && !ctrl && !event.altKey) {
      event.preventDefault();
      tabStart = null;
      const dr = key === "ArrowUp" ? -1 : key === "ArrowDown" ? 1 : 0;
      extendRange(dr, dr ? 0 : key === "ArrowLeft" ? -1 : 1);
      return true;
    }
    if (key === "Escape" && anchor) {
      event.preventDefault();
      clearRange();
      return true;
    }
    const letter = ctrl ? key.toLowerCase() : "";
    if (letter !== "z" && letter !== "y" && letter !== "d") return false;
    event.preventDefault(); // Ctrl+D would bookmark the page
    if (!writable) return true;
    if (letter === "d") fillDown(cell);
    else replay(letter === "z" && !event.shiftKey);
    return true;
  }

  function onCellKey(event, cell) {
    const key = event.key;
    const plain = !event.ctrlKey && !event.metaKey && !event.altKey;
    if (onRangeKey(event, cell)) return;
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
      const cells = range() ? cellsOf(range()) : [cell];
      asOneStep(() => {
        for (const target of cells)
          if (target.dataset.key && isEditable(target) && (textOf(target) || target.dataset.value))
            commit(target, "");
      });
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
  let dragFrom = null; // the cell a mouse drag started on: the range's anchor
  table.addEventListener("pointerdown", (event) => {
    lastPointer = event.pointerType || "mouse";
    const cell = event.target.closest(CELL);
    downOnActive = Boolean(cell && cell === document.activeElement);
    const mouse = lastPointer === "mouse" && event.button === 0 && !event.shiftKey;
    const inside = event.target.closest("input, a, button") || (editing && editing.cell === cell);
    dragFrom = mouse && cell && POSITION.has(cell) && !inside ? cell : null;
  });
  table.addEventListener("pointerover", (event) => {
    if (!dragFrom || !(event.buttons & 1)) return;
    const cell = event.target.closest(CELL);
    if (cell && POSITION.has(cell) && (cell !== active || anchor)) selectRange(dragFrom, cell);
  });
  document.addEventListener("pointerup", () => {
    dragFrom = null;
  });
  table.addEventListener("selectstart", (event) => {
    if (dragFrom) event.preventDefault(); // a drag selects cells, not their text
  });
  table.addEventListener("mousedown", (event) => {
    // Shift+click extends the range from the active cell: keep the focus where it is.
    const cell = event.target.closest(CELL);
    if (event.shiftKey && cell && POSITION.has(cell) && !(editing && editing.cell === cell))
      event.preventDefault();
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
      if (anchor) clearRange();
      if (cell !== active) {
        if (active) active.tabIndex = -1;
        active = cell;
        cell.tabIndex = 0;
      }
      return;
    }
    tabStart = null;
    if (event.shiftKey && active && cell !== active && lastPointer === "mouse") {
      selectRange(anchor || active, cell);
      return;
    }
    focusCell(cell);
    if ((downOnActive || lastPointer === "touch" || lastPointer === "pen") && isEditable(cell))
      startEdit(cell, null);
  });
  table.addEventListener("dblclick", (event) => {
    const cell = event.target.closest("td[data-key]");
    if (cell && !editing && isEditable(cell)) startEdit(cell, null);
  });

  // --- Clipboard: paste a TSV block from the focused cell; copy a cell or a range; fill down --

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

  const PASTE_WORDS = {
    done: T.pasted,
    columns: T.leftOutColumns,
    comments: T.leftOutComments,
    pastEnd: T.leftOutPastEnd,
    readOnly: T.leftOutReadOnly,
  };
  const FILL_WORDS = {
    done: T.filled,
    columns: T.fillLeftOutColumns,
    comments: T.fillLeftOutComments,
    pastEnd: T.leftOutPastEnd,
    readOnly: T.fillLeftOutReadOnly,
  };

  /** Put `lines` (rows of values) into the grid rows `rows`, from the column of `start`, and
   * say in the status line (`words`) how many went in and which were left out. */
  function pasteInto(start, rows, lines, words) {
    const c0 = POSITION.get(start)[1];
    // Values go into the cells of the starting cell's kind, in order: marks into mark cells,
    // stepping over computed columns (they hold no input); comments into comment cells. A row
    // stops at the first cell of the other kind: a mark never lands in a comment.
    const comments = start.dataset.type === "text";
    const fits = (cell) => Boolean(cell.dataset.key) && (cell.dataset.type === "text") === comments;
    let pasted = 0;
    const pastEnd = [];
    const noColumn = [];
    const readOnly = [];
    lines.forEach((line, i) => {
      const cells = i < rows.length ? GRID[rows[i]] : null;
      let c = c0;
      for (const raw of line) {
        const value = raw.trim();
        while (cells && c < cells.length && cells[c].dataset.computed) c += 1;
        const target = cells ? cells[c] : null;
        if (!cells) pastEnd.push(value);
        else if (!target || !fits(target)) {
          noColumn.push(value);
          c = cells.length;
        } else {
          c += 1;
          if (!isEditable(target)) readOnly.push(value);
          else {
            commit(target, value);
            pasted += 1;
          }
        }
      }
    });
    const note = [fmt(words.done, { count: pasted })];
    const said = (values, text) => {
      const shown = values.filter(Boolean); // an empty field loses nothing
      if (shown.length) note.push(fmt(text, { values: quoted(shown) }));
      return shown.length;
    };
    const left =
      said(noColumn, comments ? words.comments : words.columns) +
      said(pastEnd, words.pastEnd) +
      said(readOnly, words.readOnly);
    announce(note.join(" "), left ? "warning" : "info");
  }

  document.addEventListener("paste", (event) => {
    const focused = gridCellInFocus(event);
    if (!focused || editing || !writable) return;
    const text = event.clipboardData ? event.clipboardData.getData("text/plain") : "";
    if (!text) return;
    event.preventDefault();
    const rect = range();
    const start = rect ? cellAt(rect.r0, rect.c0) : focused; // a range: from its top left
    const r0 = POSITION.get(start)[0];
    const rows = GRID.map((_, r) => r).slice(r0);
    asOneStep(() => pasteInto(start, rows, parseTsv(text), PASTE_WORDS));
  });

  /** Ctrl+D: the values of the range's first row go down its other rows (the shown ones), by the
   * paste rules; with one cell, the value of the cell above it, as in Excel. One undo step. */
  function fillDown(cell) {
    let rect = range();
    if (!rect) {
      const [r, c] = POSITION.get(cell);
      let above = r - 1;
      while (above >= 0 && ROWS[above].hidden) above -= 1;
      if (above < 0) return;
      rect = { r0: above, r1: r, c0: c, c1: c };
    }
    const [first, ...rows] = shownRows(rect);
    const sources = [];
    for (let c = rect.c0; c <= rect.c1; c += 1)
      if (cellAt(first, c) && cellAt(first, c).dataset.key) sources.push(cellAt(first, c));
    if (!rows.length || !sources.length) return;
    const start = cellAt(rows[0], POSITION.get(sources[0])[1]);
    const line = sources.map(textOf);
    asOneStep(() => pasteInto(start, rows, rows.map(() => line), FILL_WORDS));
  }

  /** A cell as copied out: what it shows ("7,5", a comment, a result; "" for no result). */
  const shownValue = (cell) =>
    cell.dataset.key ? textOf(cell) : cell.dataset.value ? cell.textContent.trim() : "";
  const tsvField = (text) => (/[\t\n\r"]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text);

  document.addEventListener("copy", (event) => {
    const cell = gridCellInFocus(event);
    if (!cell || editing || !event.clipboardData) return;
    event.preventDefault();
    const rect = range();
    // A range as TSV, as a spreadsheet copies it: tabs between cells, a newline between rows.
    const lines = rect
      ? shownRows(rect).map((r) => {
          const fields = [];
          for (let c = rect.c0; c <= rect.c1; c += 1)
            if (cellAt(r, c)) fields.push(tsvField(shownValue(cellAt(r, c))));
          return fields.join("\t");
        })
      : [shownValue(cell)];
    event.clipboardData.setData("text/plain", lines.join("\n"));
  });

  /** A note in the status line, kept beside the queue's state (saves update it at once):
   * 6 s for news, a minute for a warning. */
  function announce(text, kind = "info") {
    const ms = kind === "info" ? 6000 : 60000;
    notice = { text, kind, until: Date.now() + ms };
    updateStatus();
    setTimeout(updateStatus, ms + 50);
  }

  // --- Other people's changes: polling ------------------------------------------------------

  let polling = false;
  let pollAgain = false; // asked while a poll was running: poll once more after it

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
    SAVED.set(cell, change.display);
    setText(cell, change.display);
    setState(cell, "updated");
    refreshProgress();
  }

  /** The book was locked while the page was open (a refused save or a poll says so): every
   * cell becomes read-only, an open editor closes and what it held is said not saved, the
   * status line keeps the lock's message and the lock panel shows the lock. Nothing is added
   * above the grid: it must not move under the pointer. */
  function lockGrid(message, kind) {
    lockNote = message || T.lockedNow; // the lock's own message says why and what to do
    if (writable) {
      writable = false;
      table.dataset.writable = "0";
      for (const cells of GRID)
        for (const cell of cells)
          if (cell.dataset.key) {
            cell.dataset.locked = "1";
            cell.setAttribute("aria-readonly", "true");
          }
    }
    if (editing) stopEditing();
    if (kind) showPanelLocked(kind);
    updateStatus();
  }

  /** Close the editor without saving (the book is locked) and keep what it held in view. */
  function stopEditing() {
    const { cell, original } = editing;
    let typed;
    if (editing.comment) {
      typed = editorText.value;
      editing = null;
      editor.hidden = true;
    } else {
      const { input } = editing;
      typed = input.value;
      editing = null; // before remove(): its blur must not save
      input.remove();
    }
    focusCell(cell);
    if (typed !== original) refuseLocked(cell, typed);
  }

  /** A change the lock refused: the cell shows the saved value, its message and the status
   * line what was typed, so that the teacher can ask for a correction with it. */
  function refuseLocked(cell, typed) {
    if (SAVED.has(cell)) setText(cell, SAVED.get(cell));
    cell.dataset.locked = "1";
    cell.setAttribute("aria-readonly", "true");
    if (typed === textOf(cell)) {
      unsaved.delete(cellId(cell));
      setState(cell, "");
    } else {
      unsaved.set(cellId(cell), { cell, typed });
      setState(cell, "locked", fmt(T.typedNotSaved, { value: typed }));
    }
    updateStatus();
  }

  function showPanelLocked(kind) {
    const panel = document.getElementById("lock-panel");
    if (!panel || panel.dataset.state !== "open") return;
    const submitted = kind === "submitted";
    panel.dataset.state = submitted ? "submitted" : "locked";
    const badge = panel.querySelector(".badge");
    if (badge) {
      badge.className = `badge ${submitted ? "text-bg-primary" : "text-bg-danger"}`;
      const icon = document.createElement("i");
      icon.className = submitted ? "bi bi-lock" : "bi bi-lock-fill";
      badge.replaceChildren(icon, ` ${submitted ? T.submittedBadge : T.lockedBadge}`);
    }
    const submit = document.getElementById("submit-gradebook");
    if (submit && submit.form) {
      submit.disabled = true;
      submit.form.classList.add("invisible"); // keeps its place: the grid below must not move
      submit.form.setAttribute("aria-hidden", "true");
    }
    const note = document.getElementById("lock-panel-note");
    if (note) note.textContent = T.correctionOnly; // in place of the note on submitting
  }

  async function poll() {
    if (polling) pollAgain = true;
    if (polling || document.hidden || !CHANGES_URL) return;
    polling = true;
    pollAgain = false;
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
        if (data.locked && WRITABLE_AT_LOAD) lockGrid(data.lock_message, data.lock_kind);
      }
    } catch (error) {
      // Offline: the next poll (or the "online" event) catches up from the same cursor.
    } finally {
      polling = false;
    }
    if (pollAgain) poll();
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
