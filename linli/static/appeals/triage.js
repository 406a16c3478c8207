/* Smart triage on the appeal pages (both work without this script):
 *  - the resident's form asks, as the title, description and place are filled in, whether the same
 *    problem was already reported nearby, and offers to follow that case instead of a new one;
 *  - the handler's form checks the result text as it is typed and says what is still missing
 *    (too short, off the point, no explanation, no photo). These are warnings: submitting stays
 *    possible, and the button says so. */
(function () {
  "use strict";

  function debounce(fn, ms) {
    var timer = null;
    return function () { clearTimeout(timer); timer = setTimeout(fn, ms); };
  }

  function getJSON(url, done) {
    var xhr = new XMLHttpRequest();
    xhr.open("GET", url);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.onload = function () { if (xhr.status === 200) { done(JSON.parse(xhr.responseText)); } };
    xhr.send();
  }

  function postForm(url, data, done, fail) {
    var xhr = new XMLHttpRequest();
    var failed = function () { if (fail) { fail(); } };
    xhr.open("POST", url);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.onload = function () { if (xhr.status === 200) { done(JSON.parse(xhr.responseText)); } else { failed(); } };
    xhr.onerror = failed;
    xhr.send(data);
  }

  // --- the resident's form: already reported? -------------------------------------------------
  var offer = document.getElementById("duplicate-offer");
  var form = document.getElementById("appeal-form");
  if (offer && form) {
    var list = offer.querySelector(".duplicate-list");
    var chosenNote = offer.querySelector(".duplicate-chosen");
    var errorNote = offer.querySelector(".duplicate-error");
    var followed = {};  // references followed on this page: kept chosen when the list is redrawn
    var itemTemplate = document.getElementById("duplicate-item");
    var fields = ["title", "body", "lng", "lat", "category"];
    var last = "";

    var value = function (name) {
      var el = form.querySelector("[name=" + name + "]");
      return el ? el.value.trim() : "";
    };

    var render = function (results) {
      list.textContent = "";
      chosenNote.hidden = !results.some(function (r) { return followed[r.reference]; });
      results.forEach(function (r) {
        var li = itemTemplate.content.firstElementChild.cloneNode(true);
        li.querySelector(".duplicate-title").textContent = r.title;
        var meta = [r.place, r.category, r.submitted, r.status_label];
        if (r.distance_m !== null) { meta.push(r.distance_m + " m"); }
        li.querySelector(".duplicate-meta").textContent = " " + meta.filter(Boolean).join(" · ");
        var button = li.querySelector(".duplicate-follow");
        var markFollowed = function () {
          li.classList.add("is-chosen");
          button.textContent = button.getAttribute("data-done-label");
          button.disabled = true;
          chosenNote.hidden = false;
        };
        if (followed[r.reference]) { markFollowed(); }
        button.addEventListener("click", function () {
          // Record the follow at once (one per resident and case on the server; a repeat is harmless).
          var data = new FormData();
          data.append("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
          data.append("reference", r.reference);
          button.disabled = true;
          errorNote.hidden = true;
          var xhr = new XMLHttpRequest();
          xhr.open("POST", offer.getAttribute("data-follow-url"));
          xhr.setRequestHeader("Accept", "application/json");
          xhr.onload = function () {
            var res = {};
            try { res = JSON.parse(xhr.responseText); } catch (e) { res = {}; }
            if (xhr.status === 200 && res.ok) {
              followed[r.reference] = true;
              markFollowed();
            } else {
              button.disabled = false;
              errorNote.textContent = res.error || xhr.statusText;
              errorNote.hidden = false;
            }
          };
          xhr.send(data);
        });
        list.appendChild(li);
      });
      offer.hidden = results.length === 0;
    };

    var check = function () {
      var params = fields.map(function (f) { return f + "=" + encodeURIComponent(value(f)); }).join("&");
      if (params === last) { return; }
      last = params;
      if ((value("title") + value("body")).length < 6 || !value("lng") || !value("lat")) { render([]); return; }
      getJSON(offer.getAttribute("data-url") + "?" + params, function (data) { render(data.results || []); });
    };
    var later = debounce(check, 600);
    form.addEventListener("input", later);
    form.addEventListener("change", later);
    setInterval(check, 2000);  // the map sets lng/lat without an input event
  }

  // --- the handler's form: is the result complete? ---------------------------------------------
  var handle = document.getElementById("handle-form");
  if (handle) {
    var box = document.getElementById("result-check");
    var items = box.querySelector(".result-check-list");
    var text = handle.querySelector("[name=result]");
    var photos = handle.querySelector("input[type=file][name=photos]");
    var ack = handle.querySelector("input[name=quality_ack]");
    var button = handle.querySelector("button[type=submit]");
    var plainLabel = button.textContent;
    var confirmLabel = button.getAttribute("data-confirm-label");
    var pending = 0;
    var checked = null;     // the result and photo count the findings on screen belong to
    var submitWhenDone = false;

    var show = function (findings) {
      items.textContent = "";
      findings.forEach(function (f) {
        var li = document.createElement("li");
        li.setAttribute("data-code", f.code);
        li.textContent = f.message;
        items.appendChild(li);
      });
      box.hidden = findings.length === 0;
      button.textContent = findings.length ? confirmLabel : plainLabel;
      // The handler has the findings in front of them: the server need not ask again.
      ack.value = "1";
      if (submitWhenDone) {
        submitWhenDone = false;
        // New findings are shown first; with none, the handler's click goes through.
        if (!findings.length) { handle.requestSubmit(button); }
      }
    };

    var run = function () {
      if (!text.value.trim()) { box.hidden = true; button.textContent = plainLabel; return; }
      var count = photos ? photos.files.length : 0;
      var key = text.value + "\u0000" + count;
      if (key === checked) { return; }  // already checked: a late debounced call changes nothing
      checked = key;
      var data = new FormData();
      data.append("csrfmiddlewaretoken", handle.querySelector("[name=csrfmiddlewaretoken]").value);
      data.append("result", text.value);
      data.append("photos", count);
      pending += 1;
      ack.value = "";
      postForm(handle.getAttribute("data-check-url"), data, function (res) {
        pending -= 1;
        if (pending === 0) { show(res.findings || []); }
      }, function () {
        // No check this time: the server checks the result itself when it is sent.
        pending -= 1;
        checked = null;
        if (pending === 0 && submitWhenDone) { submitWhenDone = false; handle.requestSubmit(button); }
      });
    };
    handle.addEventListener("submit", function (event) {
      if (pending > 0) {  // a check is on its way: wait for it rather than have the server ask again
        event.preventDefault();
        submitWhenDone = true;
      }
    });
    var runLater = debounce(run, 400);
    text.addEventListener("input", runLater);
    if (photos) { photos.addEventListener("change", run); }
    if (text.value.trim()) { run(); }
  }
})();
