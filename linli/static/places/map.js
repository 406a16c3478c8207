/* The district map (places:map): streets, communities, grids and compounds drawn from Linli's own
 * GeoJSON API with Leaflet, no tile server unless one is configured. Clicking shows what the
 * /places/locate API says about the point; the search box uses /places/search and flies there.
 * All words come from #placemap-text (translated by the template). */
(function () {
  "use strict";

  var el = document.getElementById("placemap");
  if (!el || typeof L === "undefined") { return; }
  var T = document.getElementById("placemap-text").dataset;
  var statusEl = document.getElementById("placemap-status");

  var map = L.map(el, { preferCanvas: true, zoomControl: true, attributionControl: !!el.dataset.tileUrl,
                        minZoom: 9, maxZoom: 19 });
  map.setView([30.70, 104.05], 13);
  if (el.dataset.tileUrl) {
    L.tileLayer(el.dataset.tileUrl, { maxZoom: 19, subdomains: "01234567",
                                      attribution: el.dataset.tileAttribution || "" }).addTo(map);
  }

  // Panes keep the drawing order whatever order layers are toggled in: grids under communities under
  // streets, compounds on top.
  var renderers = {};
  [["grid", 401], ["community", 402], ["street", 403], ["district", 404], ["compound", 405]].forEach(function (p) {
    map.createPane(p[0] + "Pane").style.zIndex = p[1];
    renderers[p[0]] = L.canvas({ pane: p[0] + "Pane" });
  });

  var PALETTE = ["#fde2c8", "#d9ecd0", "#d6e4f5", "#f3d9e8", "#e9e3c4", "#d3efec", "#e6dcf5", "#f6e0d0"];
  function paletteFor(code) {
    var h = 0;
    for (var i = 0; i < (code || "").length; i++) { h = (h * 31 + code.charCodeAt(i)) >>> 0; }
    return PALETTE[h % PALETTE.length];
  }

  var byCode = {};          // code → feature properties of every area
  var gridLayers = {};      // grid code → Leaflet layer
  var highlighted = null;
  var layers = {
    grid: L.layerGroup(), community: L.layerGroup(), street: L.layerGroup(), compound: L.layerGroup(),
    labels: L.layerGroup(), gridLabels: L.layerGroup()
  };
  var STYLE = {
    street: { color: "#8c1d18", weight: 3, fill: false, interactive: false },
    community: { color: "#1a4f8b", weight: 2, dashArray: "6 4", fill: false, interactive: false },
    grid: function (f) {
      return { color: "#57606a", weight: 1, fillColor: paletteFor(f.properties.parent_code), fillOpacity: 0.55 };
    }
  };

  function status(text) { statusEl.textContent = text || ""; statusEl.hidden = !text; }

  function getJSON(url) {
    return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) {
        return r.json().then(function (body) {
          if (!r.ok) { var e = new Error(body.detail || body.title || r.statusText); e.body = body; throw e; }
          return body;
        });
      });
  }

  function label(text, latlng, cls) {
    return L.tooltip({ permanent: true, direction: "center", className: "placemap-label " + cls, interactive: false })
      .setLatLng(latlng).setContent(escapeHtml(text));
  }

  function escapeHtml(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function labelPoint(f, layer) {
    var p = f.properties.label_point;
    return p ? L.latLng(p[1], p[0]) : layer.getBounds().getCenter();
  }

  function drawAreas(fc) {
    var bounds = null;
    fc.features.forEach(function (f) { byCode[f.properties.code] = f.properties; });
    ["street", "community", "grid"].forEach(function (kind) {
      var feats = fc.features.filter(function (f) { return f.properties.kind === kind; });
      var gj = L.geoJSON({ type: "FeatureCollection", features: feats }, {
        style: STYLE[kind], pane: kind + "Pane", renderer: renderers[kind],
        onEachFeature: function (f, layer) {
          if (kind === "grid") {
            gridLayers[f.properties.code] = layer;
            layer.on("click", function () { lastGridClicked = f.properties; });
            layers.gridLabels.addLayer(label(f.properties.name, labelPoint(f, layer), "placemap-label-grid"));
          } else {
            layers.labels.addLayer(label(f.properties.name, labelPoint(f, layer), "placemap-label-" + kind));
          }
        }
      });
      gj.addTo(layers[kind]);
      if (feats.length) { bounds = bounds ? bounds.extend(gj.getBounds()) : gj.getBounds(); }
    });
    fc.features.filter(function (f) { return f.properties.kind === "district"; }).forEach(function (f) {
      var d = L.geoJSON(f, { style: { color: "#2d333a", weight: 2, fill: false, interactive: false },
                             pane: "districtPane", renderer: renderers.district });
      d.addTo(map);
      bounds = bounds ? bounds.extend(d.getBounds()) : d.getBounds();
    });
    if (bounds && bounds.isValid()) { map.fitBounds(bounds, { padding: [12, 12] }); } else { status(T.empty); }
  }

  function drawCompounds(fc) {
    L.geoJSON(fc, {
      pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, { radius: 4, color: "#b3261e", weight: 1, fillColor: "#fff", fillOpacity: 1,
                                        pane: "compoundPane", renderer: renderers.compound });
      },
      pane: "compoundPane", renderer: renderers.compound,
      style: function () { return { color: "#b3261e", weight: 1, fillColor: "#b3261e", fillOpacity: 0.15 }; },
      onEachFeature: function (f, layer) {
        layer.bindTooltip(escapeHtml(f.properties.name), { direction: "top", className: "placemap-label" });
      }
    }).addTo(layers.compound);
  }

  var lastGridClicked = null;

  function locateHtml(loc) {
    var rows = [];
    function row(k, v) { rows.push("<dt>" + escapeHtml(k) + "</dt><dd>" + v + "</dd>"); }
    if (loc.grid) {
      row(T.grid, escapeHtml(loc.grid.name));
      row(T.code, "<code>" + escapeHtml(loc.grid.code) + "</code>");
    } else {
      row(T.grid, escapeHtml(T.noGrid));
    }
    if (loc.community) { row(T.community, escapeHtml(loc.community.name)); }
    if (loc.street) { row(T.street, escapeHtml(loc.street.name)); }
    if (loc.compound) {
      row(T.compound, escapeHtml(loc.compound.name) + " · " + Math.round(loc.distance_m) + " " + escapeHtml(T.metres));
    }
    row(T.point, loc.lng.toFixed(6) + ", " + loc.lat.toFixed(6));
    return '<dl class="placemap-facts">' + rows.join("") + "</dl>";
  }

  function highlight(code) {
    if (highlighted) { layers.grid.eachLayer(function (g) { g.resetStyle(highlighted); }); highlighted = null; }
    var layer = code && gridLayers[code];
    if (layer) { layer.setStyle({ weight: 3, color: "#b3261e" }); highlighted = layer; }
  }

  function gridFallbackHtml(p) {
    var community = byCode[p.parent_code] || {};
    var street = byCode[community.parent_code] || {};
    return locateHtml({ grid: p, community: community.name ? community : null, street: street.name ? street : null,
                        lng: 0, lat: 0 }).replace(/<dt>[^<]*<\/dt><dd>0\.000000, 0\.000000<\/dd>/, "");
  }

  map.on("click", function (e) {
    var clicked = lastGridClicked;
    lastGridClicked = null;
    var ll = e.latlng.wrap();
    var popup = L.popup({ maxWidth: 280 }).setLatLng(e.latlng)
      .setContent(clicked ? gridFallbackHtml(clicked) : "…").openOn(map);
    var url = el.dataset.locateUrl + "?lng=" + ll.lng.toFixed(7) + "&lat=" + ll.lat.toFixed(7);
    getJSON(url).then(function (loc) {
      popup.setContent(locateHtml(loc));
      highlight(loc.grid && loc.grid.code);
    }).catch(function (err) {
      if (!clicked) { popup.setContent('<p class="placemap-error">' + escapeHtml(err.message) + "</p>"); }
    });
  });

  function syncLayers() {
    document.querySelectorAll("#placemap-panel input[data-layer]").forEach(function (box) {
      var name = box.dataset.layer;
      var group = layers[name];
      if (box.checked) { map.addLayer(group); } else { map.removeLayer(group); }
    });
    var showGridLabels = document.querySelector('input[data-layer="labels"]').checked &&
      document.querySelector('input[data-layer="grid"]').checked && map.getZoom() >= 15;
    if (showGridLabels) { map.addLayer(layers.gridLabels); } else { map.removeLayer(layers.gridLabels); }
  }
  document.getElementById("placemap-panel").addEventListener("change", syncLayers);
  map.on("zoomend", syncLayers);
  if (window.matchMedia("(max-width: 40rem)").matches) { document.getElementById("placemap-panel").open = false; }

  // Search
  var form = document.getElementById("placemap-search");
  var results = document.getElementById("placemap-results");
  var marker = null;
  function flyTo(c) {
    results.hidden = true;
    if (c.lat == null || c.lng == null) { return; }
    var latlng = L.latLng(c.lat, c.lng);
    map.flyTo(latlng, c.kind === "street" ? 14 : (c.kind === "community" ? 15 : 17));
    if (marker) { map.removeLayer(marker); }
    marker = L.circleMarker(latlng, { radius: 9, color: "#b3261e", weight: 3, fillOpacity: 0.2 }).addTo(map)
      .bindPopup("<strong>" + escapeHtml(c.name) + "</strong><br>" + escapeHtml(c.label)).openPopup();
  }
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var q = form.q.value.trim();
    if (!q) { return; }
    getJSON(el.dataset.searchUrl + "?limit=8&q=" + encodeURIComponent(q)).then(function (list) {
      results.textContent = "";
      if (!list.length) {
        var li = document.createElement("li");
        li.className = "placemap-none";
        li.textContent = T.none;
        results.appendChild(li);
      }
      list.forEach(function (c, i) {
        var li = document.createElement("li");
        var b = document.createElement("button");
        b.type = "button";
        var name = document.createElement("strong");
        name.textContent = c.name;
        var where = document.createElement("span");
        where.textContent = c.label;
        b.appendChild(name);
        b.appendChild(where);
        b.addEventListener("click", function () { flyTo(c); });
        li.appendChild(b);
        results.appendChild(li);
        if (i === 0 && list.length === 1) { flyTo(c); }
      });
      results.hidden = list.length === 1;
    }).catch(function (err) { status(err.message); });
  });
  form.q.addEventListener("input", function () { if (!form.q.value) { results.hidden = true; } });

  status(T.loading);
  Promise.all([getJSON(el.dataset.areasUrl), getJSON(el.dataset.compoundsUrl)]).then(function (all) {
    status("");
    drawAreas(all[0]);
    drawCompounds(all[1]);
    syncLayers();
    el.dataset.ready = "1";
  }).catch(function () { status(T.failed); });
})();
