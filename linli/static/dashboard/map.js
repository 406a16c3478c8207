/* The command map (dashboard:map): the district's own GeoJSON boundaries (as places/map.js draws
 * them), coloured by open, overdue or new cases per grid, community or street from
 * dashboard:api_map; hot-issue groups as markers; a click on an area shows its figures and cases.
 * Polls the figures every data-refresh seconds without reloading. Words come from #dashmap-text. */
(function () {
  "use strict";
  var el = document.getElementById("dashmap");
  if (!el || typeof L === "undefined") { return; }
  var T = document.getElementById("dashmap-text").dataset;
  var form = document.getElementById("dashmap-form");
  var statusEl = document.getElementById("dashmap-status");
  var detail = document.getElementById("dashmap-detail");
  var detailBody = document.getElementById("dashmap-detail-body");

  var map = L.map(el, { preferCanvas: true, attributionControl: !!el.dataset.tileUrl, minZoom: 9, maxZoom: 19,
                        zoomSnap: 0.25 });
  map.setView([30.70, 104.05], 13);
  if (el.dataset.tileUrl) { L.tileLayer(el.dataset.tileUrl, { maxZoom: 19, subdomains: "01234567" }).addTo(map); }
  map.createPane("areaPane").style.zIndex = 401;
  map.createPane("hotPane").style.zIndex = 450;
  var renderer = L.canvas({ pane: "areaPane" });
  // A canvas catches every click over its whole area, so areas and street outlines share one canvas
  // (outlines drawn last); the few hot-spot markers are SVG, letting clicks between them through.
  var hotRenderer = L.svg({ pane: "hotPane" });

  // Sequential reds (ColorBrewer Reds, 5 classes), grey for zero.
  var COLOURS = ["#f1f3f5", "#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15"];
  var layers = {};        // level → L.GeoJSON
  var outlines = null;    // street outlines, always on top
  var hotLayer = L.layerGroup().addTo(map);
  var figures = {};       // area id → {open, overdue, near, new}
  var current = { level: "grid", metric: "open", max: 0 };
  var selected = null;

  function status(text) { statusEl.textContent = text || ""; statusEl.hidden = !text; }
  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function getJSON(u) {
    return fetch(u, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw new Error(r.statusText); } return r.json(); });
  }
  function params() {
    var p = new URLSearchParams();
    ["period", "category", "channel", "unit"].forEach(function (k) { if (form[k].value) { p.set(k, form[k].value); } });
    return p;
  }
  function thresholds(max) {
    // Five classes over 1..max: equal steps, at least 1 wide.
    var t = [];
    for (var i = 1; i <= 5; i++) { t.push(Math.max(i, Math.ceil(max * i / 5))); }
    return t;
  }
  function colourFor(n) {
    if (!n) { return COLOURS[0]; }
    var t = thresholds(current.max);
    for (var i = 0; i < t.length; i++) { if (n <= t[i]) { return COLOURS[i + 1]; } }
    return COLOURS[5];
  }
  function style(f) {
    var fig = figures[f.properties.id] || {};
    var isSel = selected === f.properties.id;
    return { color: isSel ? "#1a4f8b" : "#57606a", weight: isSel ? 3 : (current.level === "grid" ? 0.6 : 1.2),
             fillColor: colourFor(fig[current.metric] || 0), fillOpacity: 0.78 };
  }
  function restyle() {
    Object.keys(layers).forEach(function (lvl) { layers[lvl].setStyle(style); });
  }
  function legend() {
    var box = document.getElementById("dashmap-legend");
    var t = thresholds(current.max);
    var html = '<p class="dashmap-legend-title">' + esc(T[current.metric]) + "</p><ul>";
    html += '<li><span class="dash-swatch sw-0"></span>0</li>';
    var lo = 1;
    for (var i = 0; i < 5; i++) {
      if (t[i] < lo) { continue; }
      html += '<li><span class="dash-swatch sw-' + (i + 1) + '"></span>' + (lo === t[i] ? lo : lo + "–" + t[i]) + "</li>";
      lo = t[i] + 1;
      if (lo > current.max) { break; }
    }
    box.innerHTML = html + "</ul>";
  }

  function drawAreas(fc) {
    var bounds = null;
    ["grid", "community", "street"].forEach(function (kind) {
      var feats = fc.features.filter(function (f) { return f.properties.kind === kind; });
      layers[kind] = L.geoJSON({ type: "FeatureCollection", features: feats }, {
        style: style, pane: "areaPane", renderer: renderer,
        onEachFeature: function (f, layer) {
          layer.on("click", function (e) { L.DomEvent.stop(e); openArea(f.properties); });
          layer.bindTooltip(function () {
            var fig = figures[f.properties.id] || {};
            return "<strong>" + esc(f.properties.name) + "</strong><br>" + esc(T.open) + " " + (fig.open || 0) + " · " +
              esc(T.overdue) + " " + (fig.overdue || 0) + " · " + esc(T["new"]) + " " + (fig["new"] || 0);
          }, { sticky: true, className: "dashmap-tip" });
        }
      });
      if (feats.length) { bounds = bounds ? bounds.extend(layers[kind].getBounds()) : layers[kind].getBounds(); }
    });
    var streets = fc.features.filter(function (f) { return f.properties.kind === "street"; });
    outlines = L.geoJSON({ type: "FeatureCollection", features: streets }, {
      style: { color: "#8c1d18", weight: 2.5, fill: false, interactive: false }, pane: "areaPane", renderer: renderer
    });
    el.dataset.polygons = String(fc.features.filter(function (f) { return f.properties.kind !== "district"; }).length);
    if (bounds && bounds.isValid()) {
      var wide = window.matchMedia("(min-width: 45rem)").matches;
      map.fitBounds(bounds, { paddingTopLeft: [12, 12], paddingBottomRight: [wide ? 300 : 12, wide ? 12 : 60] });
    } else { status(T.empty); }
  }
  function showLevel() {
    Object.keys(layers).forEach(function (lvl) {
      if (lvl === current.level) { map.addLayer(layers[lvl]); } else { map.removeLayer(layers[lvl]); }
    });
    if (outlines) { map.removeLayer(outlines); map.addLayer(outlines); }
  }

  function drawHot(groups) {
    hotLayer.clearLayers();
    if (!form.hot.checked) { return; }
    groups.forEach(function (g) {
      var r = Math.min(22, 7 + Math.sqrt(g.heat) * 2.5);
      L.circleMarker([g.lat, g.lng], { radius: r, color: "#7a0b0b", weight: 2, fillColor: "#ff7b00", fillOpacity: 0.75,
                                        pane: "hotPane", renderer: hotRenderer })
        .bindTooltip("<strong>" + esc(T.hot) + "</strong> " + esc(g.label) + "<br>" + esc(T.cases) + " " + g.count +
                     " · " + esc(T.heat) + " " + g.heat, { className: "dashmap-tip" })
        .addTo(hotLayer);
    });
    el.dataset.hot = String(groups.length);
  }

  function refresh() {
    var p = params();
    p.set("level", current.level);
    return getJSON(el.dataset.figuresUrl + "?" + p.toString()).then(function (d) {
      figures = d.areas;
      current.max = d.max[current.metric] || 0;
      current.data = d;
      restyle();
      legend();
      drawHot(d.hot);
      var t = d.totals;
      document.getElementById("dashmap-totals").innerHTML =
        '<span class="badge">' + esc(T.open) + " " + t.open + '</span> <span class="badge badge-red">' + esc(T.overdue) + " " +
        t.overdue + '</span> <span class="badge badge-yellow">' + esc(T.near) + " " + t.near + '</span> <span class="badge badge-info">' +
        esc(T["new"]) + " " + t["new"] + "</span>";
      document.getElementById("dashmap-updated").textContent = T.updated + " " + d.at.slice(11, 19);
      el.dataset.ready = "1";
      el.dataset.refreshed = String((+el.dataset.refreshed || 0) + 1);
      status("");
      if (selected) { openArea(selectedProps, true); }
    }).catch(function () { status(T.failed); });
  }

  var selectedProps = null;
  function openArea(props, quiet) {
    selected = props.id;
    selectedProps = props;
    restyle();
    var p = params();
    if (!quiet) { detail.hidden = false; detailBody.innerHTML = "<p>" + esc(T.loading) + "</p>"; }
    getJSON(el.dataset.areaUrl.replace(/0\/$/, props.id + "/") + "?" + p.toString()).then(function (d) {
      var f = d.figures;
      var html = "<h2>" + esc(d.area.name) + "</h2><dl class=\"dashmap-figs\">" +
        ["open", "overdue", "near", "new", "closed"].map(function (k) {
          return "<div><dt>" + esc(T[k]) + "</dt><dd data-fig=\"" + k + "\">" + f[k] + "</dd></div>";
        }).join("") + "</dl>";
      if (!d.cases.length) { html += "<p class=\"muted\">" + esc(T.none) + "</p>"; }
      html += "<ul class=\"dashmap-cases\">" + d.cases.map(function (c) {
        return "<li class=\"dl-" + esc(c.deadline) + "\"><a href=\"" + esc(c.url) + "\">" + esc(c.title) + "</a><span>" +
          esc(c.reference) + " · " + esc(c.status) + (c.unit ? " · " + esc(c.unit) : "") + (c.due ? " · " + esc(T.due) + " " + esc(c.due) : "") +
          "</span></li>";
      }).join("") + "</ul>";
      detailBody.innerHTML = html;
      detail.hidden = false;
    }).catch(function () { if (!quiet) { detailBody.innerHTML = "<p>" + esc(T.failed) + "</p>"; } });
  }
  document.getElementById("dashmap-close").addEventListener("click", function () {
    detail.hidden = true; selected = null; selectedProps = null; restyle();
  });

  form.addEventListener("change", function (e) {
    current.metric = form.metric.value;
    var levelChanged = form.level.value !== current.level;
    current.level = form.level.value;
    if (levelChanged) { showLevel(); }
    if (e.target.name === "metric" && current.data) {
      current.max = current.data.max[current.metric] || 0; restyle(); legend(); return;
    }
    if (e.target.name === "hot" && current.data) { drawHot(current.data.hot); return; }
    refresh();
  });
  if (window.matchMedia("(max-width: 40rem)").matches) { document.getElementById("dashmap-panel").open = false; }

  status(T.loading);
  getJSON(el.dataset.areasUrl).then(function (fc) {
    drawAreas(fc);
    showLevel();
    return refresh();
  }).catch(function () { status(T.failed); });
  var every = (+el.dataset.refresh || 30) * 1000;
  setInterval(function () { if (!document.hidden && layers.grid) { refresh(); } }, every);
})();
