/* The reports list (dashboard:reports): reports being made show their progress, polled every 2 s. */
(function () {
  "use strict";
  var list = document.getElementById("report-list");
  if (!list) { return; }
  function pending() {
    return Array.prototype.filter.call(list.querySelectorAll("tr[data-report]"), function (tr) {
      return tr.dataset.status === "pending" || tr.dataset.status === "running";
    });
  }
  function link(href, text) { var a = document.createElement("a"); a.href = href; a.textContent = text; return a; }
  function poll() {
    var rows = pending();
    if (!rows.length) { return; }
    var ids = rows.map(function (tr) { return tr.dataset.report; }).join(",");
    fetch(list.dataset.statusUrl + "?ids=" + ids, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (d) {
        d.reports.forEach(function (r) {
          var tr = list.querySelector('tr[data-report="' + r.id + '"]');
          if (!tr) { return; }
          tr.dataset.status = r.status;
          tr.querySelector(".report-status").textContent = r.status_label;
          var bar = tr.querySelector("progress");
          if (bar) { bar.value = r.progress; }
          var step = tr.querySelector(".report-step");
          if (step) { step.textContent = r.step; }
          if (r.status === "done") {
            if (bar) { bar.remove(); }
            if (step) { step.remove(); }
            var cell = tr.querySelector(".report-links");
            cell.textContent = "";
            cell.appendChild(link(r.pdf, "PDF"));
            cell.appendChild(document.createTextNode(" · "));
            cell.appendChild(link(r.xlsx, "Excel"));
          }
        });
      })
      .catch(function () {})
      .then(function () { if (pending().length) { setTimeout(poll, 2000); } });
  }
  setTimeout(poll, 1000);
})();
