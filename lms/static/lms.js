/* lms: progressive enhancement only. Every page works without this file. */
(function () {
  "use strict";
  // The error summary takes focus, so a screen reader reads it first (GOV.UK pattern).
  var summary = document.querySelector("[data-lms-error-summary]");
  if (summary) summary.focus();

  // An error link focuses its field and shows the field's label or question too.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest(".error-summary a[href^='#']");
    if (!link) return;
    var field = document.getElementById(link.getAttribute("href").slice(1));
    if (!field) return;
    event.preventDefault();
    var legend = field.closest("fieldset");
    var label = document.querySelector("label[for='" + field.id + "']");
    (legend || label || field).scrollIntoView();
    field.focus({ preventScroll: true });
  });

  // The register: keep "n of m marked" up to date while the trainer marks.
  var register = document.querySelector("form.register");
  var count = document.querySelector("[data-lms-marked]");
  if (register && count) {
    var update = function () {
      var rows = register.querySelectorAll("fieldset.mark");
      var marked = register.querySelectorAll("fieldset.mark input[type=radio]:checked").length;
      var everyone = register.querySelector("input[name=everyone]");
      var text = count.getAttribute("data-template")
        .replace("{marked}", marked).replace("{total}", rows.length);
      if (everyone && everyone.checked && marked < rows.length) {
        text += " " + count.getAttribute("data-rest").replace("{rest}", rows.length - marked);
      }
      count.textContent = text;
    };
    register.addEventListener("change", update);
    update();
  }
})();
