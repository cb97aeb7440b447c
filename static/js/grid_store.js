/* Sổ điểm: where the grid keeps its unsent changes, shared safely between tabs.
 *
 * Each tab of a grid keeps its queue under its own localStorage key, `<prefix>:<tab id>`, so
 * two tabs never overwrite each other's. The tab id lives in sessionStorage: a reload keeps it
 * and finds its own queue again. While a page is open it holds the Web Lock of its key
 * (navigator.locks); the browser releases it when the tab closes or crashes. Every other tab
 * of the grid with a key in view waits on that lock: the first one granted it adopts the
 * closed tab's queue (writes it into its own key, then removes the closed tab's) while holding
 * the lock, so a queue is adopted by one tab only and sent once. A key written less than
 * GRACE_MS ago (a tab writes its key as it leaves) is left for GRACE_MS more, so that a reload
 * takes its own queue back rather than handing it over.
 *
 * Without Web Locks (a page served over plain HTTP, where browsers do not offer them) a key is
 * adopted, on load, only when its tab stopped writing its heartbeat STALE_MS ago: without a
 * lock this is not exclusive (docs/gradebook.md). The key without a tab id is the queue of the
 * version before per-tab keys, adopted like a closed tab's.
 */
(() => {
  "use strict";

  const TAB = "sodiem.grid.tab";
  const GRACE_MS = 3000;
  const BEAT_MS = 5000;
  const STALE_MS = 10 * 60 * 1000;
  const locks =
    navigator.locks && typeof navigator.locks.request === "function" ? navigator.locks : null;

  function read(key) {
    try {
      return JSON.parse(localStorage.getItem(key) || "null");
    } catch (error) {
      return null;
    }
  }

  function newId() {
    if (window.crypto && typeof crypto.randomUUID === "function") return crypto.randomUUID();
    return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
  }

  /** The store of one grid. `adopt(queue, conflicts)` receives a closed tab's changes. */
  function open(prefix, adopt) {
    let id = null;
    let key = null;
    let latest = { queue: [], conflicts: {} };
    const watching = new Set();

    function write() {
      if (!key) return; // not started yet: start() writes what was saved meanwhile
      const { queue, conflicts } = latest;
      try {
        if (queue.length || Object.keys(conflicts).length)
          localStorage.setItem(key, JSON.stringify({ queue, conflicts, beat: Date.now() }));
        else localStorage.removeItem(key);
      } catch (error) {
        // Storage full or disabled: the queue still lives in memory and beforeunload warns.
      }
    }

    function save(queue, conflicts) {
      latest = { queue, conflicts };
      write();
    }

    function othersInView() {
      const found = [];
      for (let i = 0; i < localStorage.length; i += 1) {
        const name = localStorage.key(i);
        if (name === prefix) found.push("");
        else if (name && name.startsWith(`${prefix}:`) && name !== key)
          found.push(name.slice(prefix.length + 1));
      }
      return found;
    }

    const keyOf = (other) => (other ? `${prefix}:${other}` : prefix);

    /** Take another tab's changes; or, when its key is too fresh, the milliseconds to wait. */
    function take(other) {
      const data = read(keyOf(other));
      if (!data) return 0;
      const wait = (data.beat || 0) + GRACE_MS - Date.now();
      if (wait > 0) return wait;
      adopt(data.queue || [], data.conflicts || {}); // the grid saves them under its own key
      localStorage.removeItem(keyOf(other));
      return 0;
    }

    function watch(other) {
      if (watching.has(other)) return;
      watching.add(other);
      locks.request(`${keyOf(other)}#tab`, () => {
        watching.delete(other);
        const wait = take(other);
        if (wait > 0) setTimeout(() => watch(other), wait);
      });
    }

    function scan() {
      for (const other of othersInView()) {
        if (locks) watch(other);
        else if (Date.now() - ((read(keyOf(other)) || {}).beat || 0) > STALE_MS) take(other);
      }
    }

    function begin(resolve) {
      key = `${prefix}:${id}`;
      const mine = read(key) || {};
      resolve({ queue: mine.queue || [], conflicts: mine.conflicts || {} });
      setTimeout(scan, 0); // after the grid has put its own queue back
      window.addEventListener("storage", (event) => {
        if (event.newValue !== null && event.key && event.key.startsWith(prefix)) scan();
      });
      setInterval(() => {
        if (localStorage.getItem(key) !== null) write(); // the heartbeat
        scan();
      }, BEAT_MS);
      window.addEventListener("pagehide", () => {
        if (localStorage.getItem(key) !== null) write();
      });
    }

    /** Find this tab's own queue; resolves with {queue, conflicts} once the tab owns its key. */
    function start() {
      let wanted = null;
      try {
        wanted = sessionStorage.getItem(TAB);
      } catch (error) {
        wanted = null;
      }
      const claim = (candidate) => {
        id = candidate;
        try {
          sessionStorage.setItem(TAB, candidate);
        } catch (error) {
          // Without sessionStorage a reload starts a new tab id; its old queue is adopted.
        }
      };
      return new Promise((resolve) => {
        if (!locks) {
          claim(wanted || newId());
          begin(resolve);
          return;
        }
        const hold = (candidate, patience) => {
          const options = patience ? { signal: AbortSignal.timeout(patience) } : {};
          locks
            .request(`${keyOf(candidate)}#tab`, options, () => {
              claim(candidate);
              begin(resolve);
              return new Promise(() => {}); // held while the page lives
            })
            .catch(() => hold(newId(), 0)); // a duplicated tab kept the id of an open one
        };
        // Another tab holds the lock for a moment when it looks at this key; an open tab
        // (this one duplicated) holds it for good.
        hold(wanted || newId(), wanted ? 2000 : 0);
      });
    }

    return { start, save, id: () => id };
  }

  window.SodiemGridStore = { open };
})();
