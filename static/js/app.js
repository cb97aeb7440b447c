/* Sổ điểm: the few behaviours every page may use, bound by data attributes (the
 * Content-Security-Policy allows no inline script or event-handler attribute: config/csp.py).
 * - <select data-autosubmit>: submits its form when changed (a <noscript> button does it
 *   without JavaScript).
 * - <form data-confirm="question">: asks the question before submitting; Cancel keeps the page.
 * - <button data-print>: prints the page.
 * Event delegation, so content swapped in by htmx works too. Plain ES2017, no dependency. */
(function () {
  "use strict";

  document.addEventListener("change", function (event) {
    const target = event.target;
    if (target instanceof HTMLSelectElement && target.hasAttribute("data-autosubmit") && target.form) {
      target.form.submit();
    }
  });

  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });

  document.addEventListener("click", function (event) {
    const button = event.target instanceof Element ? event.target.closest("[data-print]") : null;
    if (button) {
      window.print();
    }
  });
})();
