/* The figures page (dashboard:home): headline numbers and ECharts charts, each fed by a JSON endpoint
 * with the page's filters; refreshed every 60 s without reloading. Words come from #dash-text. */
(function () {
  "use strict";
  var root = document.getElementById("dash-home");
  if (!root || typeof echarts === "undefined") { return; }
  var T = document.getElementById("dash-text").dataset;
  var query = root.dataset.query ? "?" + root.dataset.query : "";
  var group = "street";
  var charts = {};
  var lastRates = [];
  var PALETTE = ["#1a4f8b", "#b3261e", "#2e7d32", "#c98200", "#6a3d9a", "#00838f", "#57606a", "#ad1457", "#5d4037"];

  function url(base, extra) {
    var q = query;
    if (extra) { q += (q ? "&" : "?") + extra; }
    return base + q;
  }
  function getJSON(u) {
    return fetch(u, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw new Error(r.statusText); } return r.json(); });
  }
  function chart(id) {
    if (!charts[id]) {
      charts[id] = echarts.init(document.getElementById(id), null, { renderer: "canvas" });
    }
    return charts[id];
  }
  function pct(v) { return v == null ? "—" : (v * 100).toFixed(1) + "%"; }
  function cell(tr, text, cls) {
    var td = document.createElement("td");
    td.textContent = text;
    if (cls) { td.className = cls; }
    tr.appendChild(td);
  }
  var base = {
    color: PALETTE, animation: false,
    textStyle: { fontFamily: "system-ui, 'PingFang SC', 'Microsoft YaHei', 'WenQuanYi Micro Hei', sans-serif" },
    tooltip: { trigger: "axis", renderMode: "richText" },
    grid: { left: 44, right: 16, top: 36, bottom: 40, containLabel: true }
  };
  function opts(o) { var out = {}; Object.keys(base).forEach(function (k) { out[k] = base[k]; }); Object.keys(o).forEach(function (k) { out[k] = o[k]; }); return out; }

  function summary() {
    return getJSON(url(root.dataset.summaryUrl)).then(function (d) {
      Object.keys(d.figures).forEach(function (k) {
        var el = root.querySelector('[data-figure="' + k + '"]');
        if (el) { el.textContent = d.figures[k]; }
      });
      document.getElementById("dash-updated").textContent = T.updated + " " + d.at.replace("T", " ").slice(0, 19);
    });
  }

  function drawRates() {
    var metric = document.getElementById("dash-rate-pick").value;
    var rows = lastRates.slice().sort(function (a, b) { return (b[metric] == null ? -1 : b[metric]) - (a[metric] == null ? -1 : a[metric]); });
    var top = rows.slice(0, 20);
    chart("chart-rates").setOption(opts({
      legend: { top: 0, data: [T.response, T.resolution, T.satisfaction] },
      grid: { left: 44, right: 16, top: 36, bottom: 70, containLabel: true },
      xAxis: { type: "category", data: top.map(function (r) { return r.label || "—"; }), axisLabel: { rotate: top.length > 8 ? 35 : 0, interval: 0 } },
      yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
      series: [["response_rate", T.response], ["resolution_rate", T.resolution], ["satisfaction_rate", T.satisfaction]].map(function (s) {
        return { name: s[1], type: "bar", data: top.map(function (r) { return r[s[0]] == null ? null : +(r[s[0]] * 100).toFixed(1); }) };
      })
    }), true);
    var tbody = document.querySelector("#rates-table tbody");
    tbody.textContent = "";
    rows.forEach(function (r, i) {
      var tr = document.createElement("tr");
      cell(tr, String(i + 1)); cell(tr, r.label || "—"); cell(tr, String(r.total), "num");
      cell(tr, pct(r.response_rate), "num"); cell(tr, pct(r.resolution_rate), "num"); cell(tr, pct(r.satisfaction_rate), "num");
      tbody.appendChild(tr);
    });
    if (!rows.length) { var tr = document.createElement("tr"); cell(tr, T.empty); tbody.appendChild(tr); }
  }
  function rates() {
    return getJSON(url(root.dataset.ratesUrl, "group=" + group)).then(function (d) { lastRates = d.rows; drawRates(); });
  }
  function trend() {
    return getJSON(url(root.dataset.trendUrl)).then(function (d) {
      chart("chart-trend").setOption(opts({
        legend: { top: 0 },
        xAxis: { type: "category", data: d.months.map(function (m) { return m.label; }) },
        yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
        series: [["response_rate", T.response], ["resolution_rate", T.resolution], ["satisfaction_rate", T.satisfaction]].map(function (s) {
          return { name: s[1], type: "line", connectNulls: true, symbolSize: 6,
                   data: d.months.map(function (m) { return m[s[0]] == null ? null : +(m[s[0]] * 100).toFixed(1); }) };
        })
      }), true);
    });
  }
  function intake(by, id) {
    return getJSON(url(root.dataset.intakeUrl, "by=" + by)).then(function (d) {
      var series = d.series.slice(0, 8);
      chart(id).setOption(opts({
        legend: { top: 0, type: "scroll" },
        xAxis: { type: "category", data: d.axis.map(function (a) { return a.length > 7 ? a.slice(5) : a; }) },
        yAxis: { type: "value", minInterval: 1 },
        series: series.map(function (s) { return { name: s.name, type: "bar", stack: "n", data: s.data }; })
      }), true);
    });
  }
  function handling() {
    return getJSON(url(root.dataset.handlingUrl)).then(function (d) {
      ["avg_hours", "p90_hours", "n"].forEach(function (k) {
        var v = d.overall[k];
        root.querySelector('[data-handling="' + k + '"]').textContent = v == null ? "—" : v;
      });
      var rows = d.by_unit.slice(0, 12).reverse();
      chart("chart-handling").setOption(opts({
        tooltip: { trigger: "axis", renderMode: "richText" },
        legend: { top: 0, data: [T.avg, T.p90] },
        grid: { left: 8, right: 24, top: 30, bottom: 8, containLabel: true },
        xAxis: { type: "value", name: T.hours },
        yAxis: { type: "category", data: rows.map(function (r) { return (r.label || "—").replace(/^(成都市|金牛区)/, "").slice(0, 10); }) },
        series: [{ name: T.avg, type: "bar", data: rows.map(function (r) { return r.avg_hours; }) },
                 { name: T.p90, type: "bar", data: rows.map(function (r) { return r.p90_hours; }) }]
      }), true);
    });
  }
  function workers() {
    return getJSON(url(root.dataset.workersUrl)).then(function (d) {
      var tbody = document.querySelector("#workers-table tbody");
      tbody.textContent = "";
      d.grids.forEach(function (g) {
        var tr = document.createElement("tr");
        cell(tr, g.grid); cell(tr, g.community); cell(tr, String(g.workers), "num"); cell(tr, String(g.period), "num");
        cell(tr, String(g.open), "num"); cell(tr, g.per_worker == null ? "—" : String(g.per_worker), "num");
        tbody.appendChild(tr);
      });
    });
  }

  document.querySelectorAll("[data-group]").forEach(function (b) {
    b.addEventListener("click", function () {
      group = b.dataset.group;
      document.querySelectorAll("[data-group]").forEach(function (o) {
        o.classList.toggle("is-active", o === b); o.setAttribute("aria-pressed", o === b ? "true" : "false");
      });
      rates();
    });
  });
  document.getElementById("dash-rate-pick").addEventListener("change", drawRates);
  var period = document.querySelector('#dash-filters select[name="period"]');
  document.querySelectorAll('#dash-filters input[type="date"]').forEach(function (i) {
    i.addEventListener("change", function () { period.value = ""; });
  });
  window.addEventListener("resize", function () { Object.keys(charts).forEach(function (k) { charts[k].resize(); }); });

  function all() {
    return Promise.all([summary(), rates(), trend(), intake("channel", "chart-channel"), intake("category", "chart-category"),
                        handling(), workers()])
      .then(function () { root.dataset.ready = "1"; })
      .catch(function () { document.getElementById("dash-updated").textContent = T.failed; });
  }
  all();
  setInterval(function () { if (!document.hidden) { summary().catch(function () {}); } }, 30000);
  setInterval(function () { if (!document.hidden) { all(); } }, 300000);
})();
