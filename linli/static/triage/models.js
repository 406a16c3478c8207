/* The model registry pages (triage:models, triage:model_detail):
 *  - a running training's progress bar is refreshed from its JSON endpoint every 2 s; when the
 *    training ends the page reloads to show the new version's figures;
 *  - the confusion matrix is drawn as an ECharts heatmap when ECharts is installed (the table below
 *    it shows the same numbers either way). */
(function () {
  "use strict";

  document.querySelectorAll(".triage-progress[data-progress-url]").forEach(function (el) {
    var bar = el.querySelector("progress");
    var pct = el.querySelector(".triage-progress-pct");
    var msg = el.querySelector(".triage-progress-msg");
    function poll() {
      fetch(el.getAttribute("data-progress-url"), { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { if (!r.ok) { throw new Error(r.statusText); } return r.json(); })
        .then(function (d) {
          bar.value = d.progress;
          bar.textContent = d.progress + "%";
          pct.textContent = d.progress + "%";
          msg.textContent = d.error ? d.message + "：" + d.error : d.message;
          if (d.done) { window.location.reload(); } else { setTimeout(poll, 2000); }
        })
        .catch(function () { setTimeout(poll, 5000); });
    }
    setTimeout(poll, 1000);
  });

  var chartEl = document.getElementById("triage-confusion-chart");
  var dataEl = document.getElementById("triage-confusion-data");
  if (chartEl && dataEl && typeof echarts !== "undefined") {
    var d = JSON.parse(dataEl.textContent);
    var T = document.getElementById("triage-text").dataset;
    var points = [];
    var max = 1;
    d.matrix.forEach(function (row, i) {
      row.forEach(function (n, j) { points.push([j, i, n]); if (n > max) { max = n; } });
    });
    chartEl.style.height = Math.max(420, 140 + d.names.length * 24) + "px";
    var chart = echarts.init(chartEl, null, { renderer: "canvas" });
    chart.setOption({
      animation: false,
      textStyle: { fontFamily: "system-ui, 'PingFang SC', 'Microsoft YaHei', 'WenQuanYi Micro Hei', sans-serif" },
      tooltip: {
        renderMode: "richText",
        formatter: function (p) {
          return T.actual + "：" + d.names[p.value[1]] + "\n" + T.predicted + "：" + d.names[p.value[0]] + "\n" + p.value[2];
        }
      },
      grid: { left: 8, right: 24, top: 8, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: d.names, position: "top", axisLabel: { rotate: 40, interval: 0, fontSize: 11 } },
      yAxis: { type: "category", data: d.names, inverse: true, axisLabel: { interval: 0, fontSize: 11 } },
      visualMap: { min: 0, max: max, show: false, inRange: { color: ["#f6f8fa", "#9ec5ea", "#1a4f8b"] } },
      series: [{ type: "heatmap", data: points, label: { show: d.names.length <= 16, fontSize: 11 } }]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }
})();
