/* A page that waits for a signature (a job, a package): when the polled progress says it now
 * waits for the signer's USB token (data-companion-waiting) and the page has no signing panel
 * yet, reload to show it. */
(function () {
  "use strict";
  document.body.addEventListener("htmx:afterSwap", function () {
    if (document.querySelector("[data-companion-waiting]") &&
        !document.querySelector("[data-companion-sign]")) {
      window.location.reload();
    }
  });
})();
