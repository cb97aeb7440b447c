/* Sổ điểm: the signing settings page (templates/transcripts/signing_settings.html).
 *
 * Shows only the section of the chosen signing method ([data-method-section], chosen by the
 * radio buttons named "method") and, for a remote signing service, only the account fields of
 * the chosen service ([data-service-section], chosen by the <select name="service">). Parts that
 * work only with JavaScript ([data-needs-js], e.g. reading the USB token through the signing
 * companion) are hidden in the HTML and shown here. Without JavaScript every section shows and
 * the form still works: the server uses the chosen method's fields only.
 * Plain ES2017, no dependency, no build step.
 */
(function () {
  "use strict";

  function chosen(form, name) {
    const field = form.querySelector('input[name="' + name + '"]:checked, select[name="' + name + '"]');
    return field ? field.value : "";
  }

  function update(form) {
    const method = chosen(form, "method");
    form.querySelectorAll("[data-method-section]").forEach(function (section) {
      section.hidden = section.getAttribute("data-method-section") !== method;
    });
    const service = chosen(form, "service");
    form.querySelectorAll("[data-service-section]").forEach(function (section) {
      section.hidden = section.getAttribute("data-service-section") !== service;
    });
  }

  function bind(form) {
    form.querySelectorAll("[data-needs-js]").forEach(function (part) {
      part.hidden = false;
    });
    form.addEventListener("change", function (event) {
      const name = event.target && event.target.name;
      if (name === "method" || name === "service") update(form);
    });
    update(form);
  }

  document.querySelectorAll("form[data-signing-settings]").forEach(bind);
})();
