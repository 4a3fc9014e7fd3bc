// The portal's location picker: region polygons drawn with Leaflet (no tiles), a click drops a
// pin and fills the hidden lon/lat fields; the grid under the pin is named via /api/v1/locate.
(function () {
  "use strict";
  // Leaflet sets a string tooltip as HTML; names come from data, so they go in as text
  function asText(s) { var n = document.createElement("span"); n.textContent = s; return n; }
  var el = document.getElementById("pinmap");
  if (!el || !window.L) { return; }
  var lon = document.getElementById("id_lon");
  var lat = document.getElementById("id_lat");
  var said = document.getElementById("pinned");
  var map = L.map(el, { attributionControl: false, zoomSnap: 0.25, preferCanvas: true });
  var marker = null;
  el.leafletMap = map;  // lets a browser test turn a place into a point on the screen

  function place(latlng) {
    if (marker) { marker.setLatLng(latlng); } else {
      marker = L.circleMarker(latlng, { radius: 9, color: "#b3261e", weight: 3, fillOpacity: 0.8 })
        .addTo(map);
    }
    lon.value = latlng.lng.toFixed(6);
    lat.value = latlng.lat.toFixed(6);
    el.dataset.pinned = "1";
    said.textContent = "已选位置：" + lon.value + ", " + lat.value;
    fetch("/api/v1/locate?lon=" + lon.value + "&lat=" + lat.value)
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        if (!body) { said.textContent = "该位置不在本市辖区内，请重新选择"; return; }
        var names = body.path.slice().reverse().map(function (p) { return p.name; });
        said.textContent = "已选位置：" + names.slice(1).join(" › ");
      })
      .catch(function () { /* the pin still counts; the server checks it */ });
  }

  fetch(el.dataset.geojson, { headers: { "Accept": "application/json" } })
    .then(function (r) { return r.json(); })
    .then(function (data) {
      var layer = L.geoJSON(data, {
        style: function () {
          return { color: "#334", weight: 1, fillColor: "#76b7b2", fillOpacity: 0.35 };
        },
        onEachFeature: function (feature, lyr) {
          lyr.bindTooltip(asText(feature.properties.name), { sticky: true });
          lyr.on("click", function (e) { place(e.latlng); });
        }
      }).addTo(map);
      if (layer.getLayers().length) { map.fitBounds(layer.getBounds(), { padding: [8, 8] }); }
      if (lon.value && lat.value) { place(L.latLng(+lat.value, +lon.value)); }
      el.classList.add("ready");
    })
    .catch(function (err) { el.textContent = "地图数据加载失败：" + err; });
})();
