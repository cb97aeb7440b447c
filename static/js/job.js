/* The job page: when the polled progress says the job now waits for the signer's USB token
 * (data-companion-waiting) and the page has no signing panel yet, reload to show it. */
(function () {
  "use strict";
  document.body.addEventListener("htmx:afterSwap", function (event) {
    var progress = document.getElementById("job-progress");
    if (progress && progress.hasAttribute("data-companion-waiting") &&
        !document.querySelector("[data-companion-sign]")) {
      window.location.reload();
    }
  });
})();
