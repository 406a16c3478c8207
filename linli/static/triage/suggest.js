/* Category suggestions on the appeal form (smart triage). As the title and description are typed, the
 * three likeliest categories are fetched (debounced) from triage:suggest and shown as buttons; a click
 * chooses that category in the form's select. The form works the same without this script. */
(function () {
  "use strict";

  // As triage_percent on the server: a probability is never shown as a flat 0 % or 100 %.
  function percentText(p) {
    if (p < 0.005) { return "<1"; }
    if (p >= 0.995) { return ">99"; }
    return String(Math.round(p * 100));
  }
  var box = document.getElementById("triage-suggest");
  var form = document.getElementById("appeal-form");
  if (!box || !form) { return; }
  var list = document.getElementById("triage-suggest-list");
  var hint = document.getElementById("triage-suggest-hint");
  var select = form.querySelector("select[name=category]");
  var title = form.querySelector("[name=title]");
  var body = form.querySelector("[name=body]");
  var token = form.querySelector("input[name=csrfmiddlewaretoken]");
  var timer = null;
  var last = "";
  var seq = 0;

  function show(items) {
    list.textContent = "";
    items.forEach(function (s) {
      var li = document.createElement("li");
      var b = document.createElement("button");
      b.type = "button";
      b.className = "triage-chip" + (select && select.value === String(s.id) ? " is-chosen" : "");
      b.setAttribute("data-category", s.id);
      var name = document.createElement("span");
      name.className = "triage-chip-name";
      name.textContent = s.domain ? s.domain + " · " + s.name : s.name;
      var p = document.createElement("span");
      p.className = "triage-p";
      p.textContent = percentText(s.probability) + "%";
      b.appendChild(name);
      b.appendChild(document.createTextNode(" "));
      b.appendChild(p);
      b.addEventListener("click", function () { choose(s, b); });
      li.appendChild(b);
      list.appendChild(li);
    });
    box.hidden = items.length === 0;
  }

  function choose(s, button) {
    if (!select) { return; }
    var option = select.querySelector('option[value="' + s.id + '"]');
    hint.hidden = !!option;
    if (!option) { select.focus(); return; }
    select.value = String(s.id);
    select.dispatchEvent(new Event("change", { bubbles: true }));
    list.querySelectorAll(".triage-chip").forEach(function (c) { c.classList.remove("is-chosen"); });
    button.classList.add("is-chosen");
  }

  function ask() {
    var text = (title ? title.value : "") + "\u0001" + (body ? body.value : "");
    if (text === last) { return; }
    last = text;
    if (text.replace(/\s|\u0001/g, "").length < 4) { show([]); return; }
    var data = new FormData();
    data.append("title", title ? title.value : "");
    data.append("body", body ? body.value : "");
    var mine = ++seq;
    fetch(box.getAttribute("data-url"), {
      method: "POST", body: data, credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": token ? token.value : "" }
    }).then(function (r) { return r.ok ? r.json() : { suggestions: [] }; })
      .then(function (d) { if (mine === seq) { show(d.suggestions || []); } })
      .catch(function () { /* suggestions are a help, never in the way */ });
  }

  function later() { clearTimeout(timer); timer = setTimeout(ask, 400); }
  if (title) { title.addEventListener("input", later); }
  if (body) { body.addEventListener("input", later); }
  if (select) {
    select.addEventListener("change", function () {
      list.querySelectorAll(".triage-chip").forEach(function (c) {
        c.classList.toggle("is-chosen", c.getAttribute("data-category") === select.value);
      });
    });
  }
  later();
})();
