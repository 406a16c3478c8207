/* The smart-triage panel of the case page: where the page has the registration form, each suggested
 * category gets a "use" button that chooses it in that form's category list (the dispatcher still
 * presses 立案). Without this script the panel is read-only. */
(function () {
  "use strict";
  var list = document.querySelector("#triage-panel .triage-bars");
  var select = document.querySelector('form[action$="/register/"] select[name=category]');
  if (!list || !select) { return; }
  list.querySelectorAll("li[data-category]").forEach(function (li) {
    var id = li.getAttribute("data-category");
    if (!select.querySelector('option[value="' + id + '"]')) { return; }
    var b = document.createElement("button");
    b.type = "button";
    b.className = "btn btn-sm btn-ghost triage-use";
    b.textContent = list.getAttribute("data-use-label");
    b.addEventListener("click", function () {
      select.value = id;
      select.dispatchEvent(new Event("change", { bubbles: true }));
      select.focus();
    });
    li.appendChild(b);
  });
})();
