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

  // Log-in links: a Copy button under each read-only link (without JS it is selected by hand).
  var each = function (selector, callback) {
    Array.prototype.forEach.call(document.querySelectorAll(selector), callback);
  };
  var copyText = function (input) {
    input.focus();
    input.select();
    input.setSelectionRange(0, input.value.length);
    var legacy = function () {
      return new Promise(function (resolve, reject) {
        try {
          if (document.execCommand("copy")) resolve(); else reject(new Error("copy refused"));
        } catch (error) { reject(error); }
      });
    };
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(input.value).then(null, legacy);
    }
    return legacy();
  };
  each("[data-lms-copy]", function (box) {
    var input = box.querySelector("input");
    if (!input || !window.Promise) return;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "button-secondary";
    button.appendChild(document.createTextNode(box.getAttribute("data-lms-copy")));
    var who = box.getAttribute("data-lms-copy-for");
    if (who) {
      var hidden = document.createElement("span");
      hidden.className = "visually-hidden";
      hidden.textContent = " (" + who + ")";
      button.appendChild(hidden);
    }
    var status = document.createElement("span");
    status.setAttribute("role", "status");
    button.addEventListener("click", function () {
      copyText(input).then(function () {
        status.textContent = box.getAttribute("data-lms-copied");
        window.setTimeout(function () { status.textContent = ""; }, 4000);
      }, function () { /* the link stays selected: the browser's own Copy works */ });
    });
    box.appendChild(button);
    box.appendChild(status);
  });

  // A table wider than its box scrolls sideways: say so while it does (without JS the hint
  // shows on narrow screens).
  each("[data-lms-scroll-hint]", function (hint) {
    var box = document.getElementById(hint.getAttribute("data-lms-scroll-hint"));
    if (!box) return;
    var check = function () {
      var overflows = box.scrollWidth > box.clientWidth + 1;
      hint.hidden = !overflows;
      if (overflows) hint.setAttribute("data-overflows", ""); else hint.removeAttribute("data-overflows");
    };
    window.addEventListener("resize", check);
    check();
  });
})();
