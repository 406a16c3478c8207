/* Linli: small behaviours shared by every page. The pages work without it; it only makes the
 * <details> menus close the way people expect (click elsewhere, Escape, opening another one). */
(function () {
  "use strict";

  function dropdowns() {
    return document.querySelectorAll("details.dropdown[open]");
  }

  function closeAll(except) {
    dropdowns().forEach(function (d) {
      if (d !== except) d.removeAttribute("open");
    });
  }

  document.addEventListener("click", function (event) {
    var inside = event.target.closest ? event.target.closest("details.dropdown") : null;
    closeAll(inside);
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var open = dropdowns();
    if (!open.length) return;
    open.forEach(function (d) {
      d.removeAttribute("open");
      var summary = d.querySelector("summary");
      if (summary && d.contains(document.activeElement)) summary.focus();
    });
  });

  /* <form data-confirm="…">: ask before submitting (e.g. irreversible actions). */
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  });
})();
