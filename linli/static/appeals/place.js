/* The place picker of the appeal forms: click the map to put a marker (stored in the hidden lng/lat
 * fields), see which grid, community and street the point falls in (/places/locate), or type an
 * address and pick one of the suggestions (/places/search). Words come from #appeal-place-text. */
(function () {
  "use strict";

  var el = document.getElementById("appeal-map");
  if (!el || typeof L === "undefined") { return; }
  var T = document.getElementById("appeal-place-text").dataset;
  var statusEl = document.getElementById("appeal-place-status");
  var lngInput = document.getElementById("id_lng");
  var latInput = document.getElementById("id_lat");
  var address = document.getElementById("id_address");
  var list = document.getElementById("appeal-suggestions");

  var map = L.map(el, { preferCanvas: true, minZoom: 9, maxZoom: 19, attributionControl: !!el.dataset.tileUrl });
  map.setView([30.70, 104.05], 13);
  if (el.dataset.tileUrl) {
    L.tileLayer(el.dataset.tileUrl, { maxZoom: 19, subdomains: "01234567",
                                      attribution: el.dataset.tileAttribution || "" }).addTo(map);
  }
  var marker = null;

  function getJSON(url) {
    return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) {
        return r.json().then(function (body) {
          if (!r.ok) { var e = new Error(body.detail || body.title || r.statusText); throw e; }
          return body;
        });
      });
  }

  function status(text, cls) {
    statusEl.textContent = text;
    statusEl.className = "appeal-place-status" + (cls ? " " + cls : "");
  }

  function describe(loc) {
    var parts = [];
    if (loc.street) { parts.push(T.street + "：" + loc.street.name); }
    if (loc.community) { parts.push(T.community + "：" + loc.community.name); }
    if (loc.grid) { parts.push(T.grid + "：" + loc.grid.name); }
    if (loc.compound && loc.distance_m !== null && loc.distance_m < 300) {
      parts.push(T.compound + "：" + loc.compound.name);
    }
    return T.chosen + " — " + parts.join(" · ");
  }

  function place(latlng, pan) {
    lngInput.value = latlng.lng.toFixed(7);
    latInput.value = latlng.lat.toFixed(7);
    if (!marker) { marker = L.marker(latlng, { keyboard: false }).addTo(map); } else { marker.setLatLng(latlng); }
    if (pan) { map.setView(latlng, Math.max(map.getZoom(), 16)); }
    getJSON(el.dataset.locateUrl + "?lng=" + latlng.lng.toFixed(7) + "&lat=" + latlng.lat.toFixed(7))
      .then(function (loc) { status(describe(loc), "is-set"); })
      .catch(function (err) {
        lngInput.value = ""; latInput.value = "";
        status(err.message || T.outside, "is-error");
      });
  }

  map.on("click", function (e) { place(e.latlng, false); });

  // District boundaries (streets and communities) so people can find their way without tiles.
  getJSON(el.dataset.areasUrl + "?kind=community").then(function (fc) {
    var layer = L.geoJSON(fc, { style: { color: "#1a4f8b", weight: 1, fillColor: "#e8f0fa", fillOpacity: 0.35 },
                                interactive: false }).addTo(map);
    if (!marker && layer.getBounds().isValid()) { map.fitBounds(layer.getBounds(), { padding: [8, 8] }); }
  }).catch(function () { /* the map still works without outlines */ });

  if (lngInput.value && latInput.value) {
    place(L.latLng(parseFloat(latInput.value), parseFloat(lngInput.value)), true);
  }

  // Address suggestions.
  var timer = null;
  var seq = 0;
  function hide() { list.hidden = true; list.textContent = ""; }
  function suggest() {
    var q = address.value.trim();
    if (q.length < 2) { hide(); return; }
    var mine = ++seq;
    getJSON(el.dataset.searchUrl + "?limit=6&q=" + encodeURIComponent(q)).then(function (items) {
      if (mine !== seq) { return; }
      list.textContent = "";
      if (!items.length) {
        var li = document.createElement("li");
        li.className = "muted small";
        li.textContent = T.none;
        list.appendChild(li);
      }
      items.forEach(function (c) {
        var li = document.createElement("li");
        var b = document.createElement("button");
        b.type = "button";
        b.textContent = c.name;
        var sub = document.createElement("span");
        sub.className = "sub";
        sub.textContent = c.label;
        b.appendChild(sub);
        b.addEventListener("click", function () {
          address.value = c.label ? c.label.replace(/\s*›\s*/g, " ") : c.name;
          hide();
          if (c.lng !== null && c.lat !== null) { place(L.latLng(c.lat, c.lng), true); }
        });
        li.appendChild(b);
        list.appendChild(li);
      });
      list.hidden = false;
    }).catch(hide);
  }
  address.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(suggest, 250); });
  address.addEventListener("keydown", function (e) { if (e.key === "Escape") { hide(); } });
  document.addEventListener("click", function (e) {
    if (!list.contains(e.target) && e.target !== address) { hide(); }
  });
})();
