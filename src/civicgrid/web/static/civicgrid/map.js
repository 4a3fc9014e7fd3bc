// Draw region polygons with Leaflet and no base tiles (the city network reaches no tile server).
(function () {
  "use strict";
  // Leaflet sets a string tooltip as HTML; names come from data, so they go in as text
  function asText(s) { var n = document.createElement("span"); n.textContent = s; return n; }
  var el = document.getElementById("map");
  if (!el || !window.L) { return; }
  var palette = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                 "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];
  var map = L.map(el, { attributionControl: false, zoomSnap: 0.25, preferCanvas: true });
  var link = el.dataset.link;
  fetch(el.dataset.geojson, { headers: { "Accept": "application/json" } })
    .then(function (r) { return r.json(); })
    .then(function (data) {
      var i = 0;
      var layer = L.geoJSON(data, {
        style: function () {
          var colour = palette[i++ % palette.length];
          return { color: "#334", weight: 1, fillColor: colour, fillOpacity: 0.55 };
        },
        onEachFeature: function (feature, lyr) {
          var p = feature.properties;
          lyr.bindTooltip(asText(p.name + " " + p.code), { sticky: true });
          if (link) {
            lyr.on("click", function () { window.location.href = link + p.code + "/"; });
          }
        }
      }).addTo(map);
      if (layer.getLayers().length) { map.fitBounds(layer.getBounds(), { padding: [8, 8] }); }
      el.dataset.features = String(layer.getLayers().length);
      el.classList.add("ready");
    })
    .catch(function (err) { el.textContent = "地图数据加载失败：" + err; });
})();
