// Account pages: a countdown on the "send a new code" button, so people do not press it too soon.
// The server enforces the same wait; this only explains it.
(function () {
  "use strict";
  document.querySelectorAll("button[data-wait]").forEach(function (button) {
    var left = parseInt(button.getAttribute("data-wait"), 10);
    if (!(left > 0)) return;
    var label = button.textContent;
    var suffix = button.getAttribute("data-wait-label") || "s";
    button.disabled = true;
    function tick() {
      if (left <= 0) {
        button.disabled = false;
        button.textContent = label;
        return;
      }
      button.textContent = left + " " + suffix;
      left -= 1;
      window.setTimeout(tick, 1000);
    }
    tick();
  });
})();
