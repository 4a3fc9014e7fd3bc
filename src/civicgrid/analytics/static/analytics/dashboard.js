// The leaders' dashboard: every number drawn here comes from /api/v1/metrics (DESIGN §10),
// charts with animation off so a screenshot shows final values. No tiles, no CDN.
(function () {
  "use strict";
  // Leaflet sets a string tooltip as HTML; names come from data, so they go in as text
  function asText(s) { var n = document.createElement("span"); n.textContent = s; return n; }
  var form = document.getElementById("dash-form");
  if (!form) { return; }
  var status = document.getElementById("dash-status");
  var mapEl = document.getElementById("dash-map");
  var region = form.elements.region.value;
  var childLevel = mapEl.dataset.childLevel;
  // every word the script writes comes from the page, in the reader's language (analytics/views.py)
  var T = JSON.parse(document.getElementById("dash-text").textContent);
  function say(template, values) {
    return template.replace(/\{(\w+)\}/g, function (m, k) { return k in values ? values[k] : m; });
  }
  var TILES = ["accepted", "on_spot", "due", "closed", "completion_rate", "on_time_rate",
    "avg_working_days", "fastest_seconds", "satisfaction_rate", "response_rate",
    "returned_rate", "reopened_rate"].map(function (k) { return [k, T.tiles[k]]; });
  var LOWER_BETTER = { avg_working_days: 1, fastest_seconds: 1, returned_rate: 1, reopened_rate: 1 };
  var charts = {};

  function fmt(key, v) {
    if (v === null || v === undefined) { return "—"; }
    if (/_rate$/.test(key)) { return (v * 100).toFixed(2) + "%"; }
    if (key === "avg_working_days") { return say(T.units.days, { n: v.toFixed(2) }); }
    if (key === "fastest_seconds") {
      if (v < 60) { return say(T.units.seconds, { n: Math.round(v) }); }
      if (v < 3600) { return say(T.units.minutes, { n: Math.round(v / 60) }); }
      if (v < 86400) { return say(T.units.hours, { n: (v / 3600).toFixed(1) }); }
      return say(T.units.days, { n: (v / 86400).toFixed(1) });
    }
    return String(v);
  }

  function getJSON(url) {
    return fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (r) {
        if (!r.ok) { return r.json().then(function (b) { throw new Error(b.detail || r.status); }); }
        return r.json();
      });
  }

  function qs(params) {
    return Object.keys(params).filter(function (k) { return params[k]; })
      .map(function (k) { return k + "=" + encodeURIComponent(params[k]); }).join("&");
  }

  function metrics(groupBy, from, to) {
    return getJSON("/api/v1/metrics?" + qs({ region: region, from: from, to: to, group_by: groupBy }));
  }

  function chart(id) {
    var el = document.getElementById(id);
    if (!charts[id]) { charts[id] = echarts.init(el, null, { renderer: "canvas" }); }
    return charts[id];
  }

  function trend(cur, before, key) {
    if (cur === null || before === null || cur === undefined || before === undefined) { return ""; }
    var d = cur - before;
    var better = LOWER_BETTER[key] ? d < 0 : d > 0;
    var text = /_rate$/.test(key) ? say(T.units.points, { n: (d * 100).toFixed(2).replace("-", "") })
      : String(Math.round(d * 100) / 100).replace("-", "");
    return '<span class="' + (d === 0 ? "" : better ? "up" : "down") + '">' + (d >= 0 ? "↑" : "↓") +
      esc(text) + "</span>";
  }

  function drawTiles(body) {
    var el = document.getElementById("tiles");
    el.innerHTML = TILES.map(function (t) {
      var k = t[0], v = body.total[k];
      return '<div class="kpi-tile" data-kpi="' + k + '" data-value="' + (v === null ? "" : v) + '">' +
        '<span class="l">' + esc(t[1]) + '</span><span class="v">' + esc(fmt(k, v)) + "</span>" +
        '<span class="t">' + say(esc(T.compare), { previous: trend(v, body.previous[k], k),
                                                   last_year: trend(v, body.last_year[k], k) }) +
        "</span></div>";
    }).join("");
  }

  function drawTrend(body) {
    var months = body.items.map(function (r) { return r.key; });
    chart("chart-trend").setOption({
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { data: [T.tiles.accepted, T.tiles.completion_rate, T.tiles.on_time_rate, T.tiles.satisfaction_rate] },
      xAxis: { type: "category", data: months },
      yAxis: [{ type: "value", name: T.units.axis_events }, { type: "value", name: "%", max: 100 }],
      series: [
        { name: T.tiles.accepted, type: "bar", data: body.items.map(function (r) { return r.accepted; }) },
        { name: T.tiles.completion_rate, type: "line", yAxisIndex: 1, data: body.items.map(function (r) { return pct(r.completion_rate); }) },
        { name: T.tiles.on_time_rate, type: "line", yAxisIndex: 1, data: body.items.map(function (r) { return pct(r.on_time_rate); }) },
        { name: T.tiles.satisfaction_rate, type: "line", yAxisIndex: 1, data: body.items.map(function (r) { return pct(r.satisfaction_rate); }) }
      ]
    }, true);
  }

  function pct(v) { return v === null ? null : Math.round(v * 10000) / 100; }

  function drawCategory(body) {
    var items = body.items.slice().sort(function (a, b) { return a.accepted - b.accepted; });
    chart("chart-category").setOption({
      animation: false,
      tooltip: { trigger: "axis" },
      grid: { left: 110 },
      xAxis: { type: "value" },
      yAxis: { type: "category", data: items.map(function (r) { return r.name; }) },
      series: [{ name: T.tiles.accepted, type: "bar", data: items.map(function (r) { return r.accepted; }) }]
    }, true);
  }

  function drawChannel(body) {
    chart("chart-channel").setOption({
      animation: false,
      tooltip: { trigger: "item" },
      series: [{
        name: T.tiles.accepted, type: "pie", radius: ["35%", "65%"],
        data: body.items.map(function (r) { return { name: T.channels[r.key] || r.name, value: r.accepted }; })
      }]
    }, true);
  }

  function colour(v, lo, hi, lowerBetter) {
    if (v === null || v === undefined) { return "#cccccc"; }
    var t = hi > lo ? (v - lo) / (hi - lo) : 0.5;
    if (lowerBetter) { t = 1 - t; }
    var r = Math.round(215 - 170 * t), g = Math.round(60 + 120 * t), b = Math.round(60 + 40 * t);
    return "rgb(" + r + "," + g + "," + b + ")";
  }

  var map = null, layer = null, geo = null;
  function drawMap(body, key) {
    document.getElementById("map-kpi-name").textContent =
      form.elements.kpi.options[form.elements.kpi.selectedIndex].text;
    if (!childLevel) { mapEl.closest(".dash-card").hidden = true; return Promise.resolve(); }
    var byCode = {};
    body.items.forEach(function (r) { byCode[r.key] = r; });
    var values = body.items.map(function (r) { return r[key]; }).filter(function (v) { return v !== null; });
    var lo = Math.min.apply(null, values), hi = Math.max.apply(null, values);
    var load = geo ? Promise.resolve(geo) : getJSON("/api/v1/regions/" + region + "/geojson");
    return load.then(function (data) {
      geo = data;
      if (!map) { map = L.map(mapEl, { attributionControl: false, zoomSnap: 0.25, preferCanvas: true }); }
      if (layer) { map.removeLayer(layer); }
      layer = L.geoJSON(data, {
        style: function (f) {
          var r = byCode[f.properties.code];
          return { color: "#334", weight: 1, fillOpacity: 0.75,
                   fillColor: colour(r ? r[key] : null, lo, hi, LOWER_BETTER[key]) };
        },
        onEachFeature: function (f, lyr) {
          var r = byCode[f.properties.code];
          lyr.bindTooltip(asText(say(T.tooltip, { name: f.properties.name, value: fmt(key, r ? r[key] : null) })), { sticky: true });
          lyr.on("click", function () {
            window.location.href = "?" + qs({ region: f.properties.code, from: form.elements.from.value,
                                             to: form.elements.to.value });
          });
        }
      }).addTo(map);
      if (layer.getLayers().length) { map.fitBounds(layer.getBounds(), { padding: [6, 6] }); }
      mapEl.dataset.features = String(layer.getLayers().length);
    });
  }

  function drawChildTable(body) {
    var cols = ["accepted", "due", "completion_rate", "on_time_rate", "avg_working_days", "satisfaction_rate"];
    var head = "<thead><tr><th>" + esc(T.columns.name) + "</th>" + cols.map(function (c) {
      return "<th>" + esc(T.tiles[c]) + "</th>";
    }).join("") + "</tr></thead>";
    var rows = body.items.map(function (r) {
      return '<tr data-key="' + esc(r.key) + '"><td><a href="?' + esc(qs({ region: r.key })) + '">' + esc(r.name) + "</a></td>" +
        cols.map(function (c) { return '<td class="num" data-kpi="' + c + '">' + fmt(c, r[c]) + "</td>"; }).join("") + "</tr>";
    }).join("");
    document.getElementById("child-table").innerHTML = head + "<tbody>" + rows + "</tbody>";
  }

  // The API gives instants in UTC; a deadline is shown on the city's clock (TIME_ZONE, handed
  // over by the page), whatever zone the browser is in.
  var cityClock = new Intl.DateTimeFormat("en-CA", {
    timeZone: form.dataset.timeZone, hourCycle: "h23",
    year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit"
  });
  function localTime(iso) {
    if (!iso) { return ""; }
    var p = {};
    cityClock.formatToParts(new Date(iso)).forEach(function (x) { p[x.type] = x.value; });
    return p.year + "-" + p.month + "-" + p.day + " " + p.hour + ":" + p.minute;
  }

  function esc(s) {
    return String(s || "").replace(/[&<>"]/g, function (c) { return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]; });
  }

  function drawWatch(body) {
    var SUP = T.supervision, C = T.columns;
    var head = [C.number, C.title, C.category, C.department, C.deadline, C.supervision]
      .map(function (c) { return "<th>" + esc(c) + "</th>"; }).join("");
    function table(id, items) {
      document.getElementById(id).innerHTML =
        "<thead><tr>" + head + "</tr></thead><tbody>" +
        items.map(function (e) {
          return "<tr><td>" + esc(e.number) + "</td><td>" + esc(e.title) + "</td><td>" + esc(e.category) +
            "</td><td>" + esc(e.department) + "</td><td>" + esc(localTime(e.deadline)) +
            "</td><td>" + esc(SUP[e.supervision] || "") + "</td></tr>";
        }).join("") + "</tbody>";
    }
    table("overdue", body.overdue);
    table("problem", body.problem);
    document.getElementById("overdue-count").textContent = say(T.units.events, { n: body.overdue_count });
    document.getElementById("problem-count").textContent = say(T.units.events, { n: body.problem_count });
  }

  function drawHot(from, to) {
    var days = Math.max(1, Math.round((new Date(to) - new Date(from)) / 86400000) + 1);
    return fetch("/api/v1/triage/hotspots?" + qs({ days: days, region: region }),
                 { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (b) {
        var items = (b && b.items) || [];
        if (!items.length) { return; }
        // a cluster (triage.selectors.hotspots): its class, its representative words (starred
        // by the API), and how many reports it holds
        document.getElementById("hot").innerHTML = items.slice(0, 10).map(function (h) {
          var text = (h.representative && h.representative.text) || "";
          if (text.length > 40) { text = text.slice(0, 40) + "…"; }
          var label = (h.category && h.category.name ? h.category.name + " · " : "") + text;
          return "<li>" + esc(label) + esc(say(T.units.hot_events, { n: h.size })) + "</li>";
        }).join("");
        document.getElementById("hot-card").hidden = false;
      })
      .catch(function () { document.getElementById("hot-card").hidden = true; });
  }

  function monthsBack(to) {
    var d = new Date(to + "T00:00:00");
    var first = new Date(d.getFullYear(), d.getMonth() - 11, 1);
    var m = first.getMonth() + 1;
    return first.getFullYear() + "-" + (m < 10 ? "0" : "") + m + "-01";
  }

  function load() {
    var from = form.elements.from.value, to = form.elements.to.value, key = form.elements.kpi.value;
    status.textContent = T.loading;
    document.body.dataset.dashboard = "loading";
    var jobs = [
      metrics("", from, to).then(drawTiles),
      metrics("month", monthsBack(to), to).then(drawTrend),
      metrics("category", from, to).then(drawCategory),
      metrics("channel", from, to).then(drawChannel),
      getJSON("/api/v1/dashboard/watch?" + qs({ region: region })).then(drawWatch),
      drawHot(from, to)
    ];
    if (childLevel) {
      jobs.push(metrics(childLevel, from, to).then(function (b) { drawChildTable(b); return drawMap(b, key); }));
    } else {
      mapEl.closest(".dash-card").hidden = true;
      document.getElementById("child-table").closest(".dash-card").hidden = true;
    }
    return Promise.all(jobs).then(function () {
      status.textContent = say(T.period, { from: from, to: to });
      document.body.dataset.dashboard = "ready";
    }).catch(function (err) {
      status.textContent = say(T.failed, { error: err.message });
      document.body.dataset.dashboard = "error";
    });
  }

  form.addEventListener("submit", function (ev) { ev.preventDefault(); load(); });
  window.addEventListener("resize", function () {
    Object.keys(charts).forEach(function (k) { charts[k].resize(); });
  });
  load();
})();
