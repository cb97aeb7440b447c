/* Sổ điểm: the grid's extras (issue 17), beside static/js/grid.js and loaded after it.
 *
 * - The search box above the grid (#gb-search): hides the rows of students whose name does not
 *   match, as you type, without needing diacritics or case. The rule is config/text.py's
 *   search_matches, mirrored here (tests/search_examples.py holds the examples both pass).
 *   Only rows are hidden: grid.js moves focus through window.SodiemGridFilter.visible, which
 *   steps over hidden rows; Escape in the box clears it; a block of several rows pasted while
 *   rows are hidden is refused (it would land in students the teacher does not see).
 * - The comment editor is kept inside the window: grid.js places it under its cell by the
 *   window's width, scrollbar included, and below the bottom edge for a cell low in the window.
 * Plain ES2020, no dependencies. Texts come from the elements' data attributes.
 */
(() => {
  "use strict";

  // --- Search: the rule of config/text.py ------------------------------------------------------

  const spaces = (text) => text.trim().split(/\s+/).filter(Boolean).join(" ");
  // casefold(): upper then lower case folds ß to ss as Python's casefold does.
  const caseless = (text) => text.toUpperCase().toLowerCase();

  /** search_folded: without diacritics (đ → d), without case, with single spaces. */
  function folded(text) {
    const bare = String(text).replace(/đ/g, "d").replace(/Đ/g, "D").normalize("NFD");
    return spaces(caseless(bare.replace(/\p{M}/gu, "")));
  }

  function exact(text) {
    return spaces(caseless(String(text).normalize("NFC")));
  }

  /** search_matches: typed without diacritics, they are ignored; typed with them, they count. */
  function matches(query, text) {
    if (exact(query) !== folded(query)) return exact(text).includes(exact(query));
    return folded(text).includes(folded(query));
  }

  window.SodiemSearch = { folded, matches };

  const table = document.getElementById("gb-grid");
  if (!table) return;
  const CELL = "td[data-key], td[data-computed]";
  const rows = Array.from(table.tBodies[0].rows).filter((row) => row.dataset.student);

  // --- Search: the box -------------------------------------------------------------------------

  const box = document.getElementById("gb-search");
  const count = document.getElementById("gb-search-count");
  const note = document.getElementById("gb-search-note");
  let filtered = false;

  function applySearch() {
    const query = box.value;
    let shown = 0;
    for (const row of rows) {
      const hide = !matches(query, row.dataset.name || "");
      row.hidden = hide;
      if (!hide) shown += 1;
    }
    filtered = shown < rows.length;
    if (count) {
      count.textContent = filtered
        ? count.dataset.format.replace("{shown}", shown).replace("{total}", rows.length)
        : "";
    }
    if (note && !filtered) note.textContent = "";
    keepTabStop();
  }

  /** The grid's one Tab stop (roving tabindex) must be a cell that is shown. */
  function keepTabStop() {
    const stop = table.querySelector(`tbody tr[hidden] :is(${CELL})[tabindex="0"]`);
    if (!stop) return;
    const first = firstShownCell();
    if (!first) return;
    stop.tabIndex = -1;
    first.tabIndex = 0;
  }

  function firstShownCell() {
    const row = rows.find((r) => !r.hidden);
    return row ? row.querySelector(CELL) : null;
  }

  if (box) {
    box.addEventListener("input", applySearch);
    box.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        box.value = "";
        applySearch();
      } else if (event.key === "Enter" || event.key === "ArrowDown") {
        const first = firstShownCell();
        if (first) {
          event.preventDefault();
          first.focus();
        }
      }
    });
    if (box.value) applySearch(); // the browser kept what was typed (back, reload)
  }

  /** Where grid.js moves focus: `target` if its row is shown, else the same column of the next
   * shown row in the direction of the move from `from` (the cell that has focus), else `from`. */
  function visible(target, from) {
    const row = target.closest("tr");
    if (!row || !row.hidden) return target;
    const column = Array.from(row.querySelectorAll(CELL)).indexOf(target);
    const at = rows.indexOf(row);
    const fromAt = from ? rows.indexOf(from.closest("tr")) : -1;
    const step = fromAt > at ? -1 : 1;
    for (let i = at + step; i >= 0 && i < rows.length; i += step) {
      if (!rows[i].hidden) return rows[i].querySelectorAll(CELL)[column] || target;
    }
    return from || target;
  }

  window.SodiemGridFilter = { visible };

  // A block of several rows pasted while rows are hidden would fill the hidden students' cells
  // (a paste fills the rows under the focused one): refused, with a word why. Captured before
  // grid.js's own paste handler.
  document.addEventListener(
    "paste",
    (event) => {
      if (!filtered || !(event.target instanceof Element) || !event.target.closest("#gb-grid"))
        return;
      if (event.target.closest("input, textarea")) return; // typing in an editor: its own text
      const text = event.clipboardData ? event.clipboardData.getData("text/plain") : "";
      const lines = text.replace(/\r\n?/g, "\n").replace(/\n+$/, "").split("\n");
      if (lines.length < 2) return;
      event.preventDefault();
      event.stopImmediatePropagation();
      if (note) note.textContent = note.dataset.pasteRefused;
    },
    true,
  );

  // --- The comment editor, inside the window -----------------------------------------------------

  const editor = document.getElementById("gb-comment-editor");
  const MARGIN = 8;

  function placeEditor() {
    if (editor.hidden) return;
    const root = document.documentElement;
    const width = root.clientWidth; // without the scrollbar, unlike window.innerWidth
    const height = root.clientHeight;
    const box = editor.getBoundingClientRect();
    const cell = table.querySelector(`:is(${CELL})[tabindex="0"]`);
    const under = cell ? cell.getBoundingClientRect() : null;
    const left = Math.max(MARGIN, Math.min(box.left, width - box.width - MARGIN));
    let top = box.top;
    if (top + box.height > height - MARGIN) {
      // No room below the cell: above it if there is room there, else as low as the window lets.
      const above = under ? under.top - box.height - 2 : -1;
      top = above >= MARGIN ? above : Math.max(MARGIN, height - box.height - MARGIN);
    }
    if (left !== box.left) editor.style.left = `${left + window.scrollX}px`;
    if (top !== box.top) editor.style.top = `${top + window.scrollY}px`;
  }

  if (editor) {
    // grid.js shows the editor, then places it, in one go: this runs after both.
    new MutationObserver(placeEditor).observe(editor, { attributes: true, attributeFilter: ["hidden"] });
  }
})();
