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
  var TILES = [
    ["accepted", "受理量"], ["on_spot", "自行处置数"], ["due", "应结案数"], ["closed", "结案数"],
    ["completion_rate", "结案率"], ["on_time_rate", "按期结案率"],
    ["avg_working_days", "平均处置用时"], ["fastest_seconds", "最快用时"],
    ["satisfaction_rate", "满意率"], ["response_rate", "响应率"],
    ["returned_rate", "退单率"], ["reopened_rate", "发回重办率"]
  ];
  var LOWER_BETTER = { avg_working_days: 1, fastest_seconds: 1, returned_rate: 1, reopened_rate: 1 };
  var charts = {};

  function fmt(key, v) {
    if (v === null || v === undefined) { return "—"; }
    if (/_rate$/.test(key)) { return (v * 100).toFixed(2) + "%"; }
    if (key === "avg_working_days") { return v.toFixed(2) + " 天"; }
    if (key === "fastest_seconds") {
      if (v < 60) { return Math.round(v) + " 秒"; }
      if (v < 3600) { return Math.round(v / 60) + " 分钟"; }
      if (v < 86400) { return (v / 3600).toFixed(1) + " 小时"; }
      return (v / 86400).toFixed(1) + " 天";
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
    var text = /_rate$/.test(key) ? (d * 100).toFixed(2) + "个百分点" : (Math.round(d * 100) / 100);
    return '<span class="' + (d === 0 ? "" : better ? "up" : "down") + '">' + (d >= 0 ? "↑" : "↓") +
      String(text).replace("-", "") + "</span>";
  }

  function drawTiles(body) {
    var el = document.getElementById("tiles");
    el.innerHTML = TILES.map(function (t) {
      var k = t[0], v = body.total[k];
      return '<div class="kpi-tile" data-kpi="' + k + '" data-value="' + (v === null ? "" : v) + '">' +
        '<span class="l">' + t[1] + '</span><span class="v">' + fmt(k, v) + "</span>" +
        '<span class="t">较上期 ' + trend(v, body.previous[k], k) + " · 较去年同期 " +
        trend(v, body.last_year[k], k) + "</span></div>";
    }).join("");
  }

  function drawTrend(body) {
    var months = body.items.map(function (r) { return r.key; });
    chart("chart-trend").setOption({
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { data: ["受理量", "结案率", "按期结案率", "满意率"] },
      xAxis: { type: "category", data: months },
      yAxis: [{ type: "value", name: "件" }, { type: "value", name: "%", max: 100 }],
      series: [
        { name: "受理量", type: "bar", data: body.items.map(function (r) { return r.accepted; }) },
        { name: "结案率", type: "line", yAxisIndex: 1, data: body.items.map(function (r) { return pct(r.completion_rate); }) },
        { name: "按期结案率", type: "line", yAxisIndex: 1, data: body.items.map(function (r) { return pct(r.on_time_rate); }) },
        { name: "满意率", type: "line", yAxisIndex: 1, data: body.items.map(function (r) { return pct(r.satisfaction_rate); }) }
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
      series: [{ name: "受理量", type: "bar", data: items.map(function (r) { return r.accepted; }) }]
    }, true);
  }

  function drawChannel(body) {
    chart("chart-channel").setOption({
      animation: false,
      tooltip: { trigger: "item" },
      series: [{
        name: "受理量", type: "pie", radius: ["35%", "65%"],
        data: body.items.map(function (r) { return { name: r.name, value: r.accepted }; })
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
          lyr.bindTooltip(asText(f.properties.name + "：" + fmt(key, r ? r[key] : null)), { sticky: true });
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
    var head = "<thead><tr><th>名称</th>" + cols.map(function (c) {
      return "<th>" + TILES.filter(function (t) { return t[0] === c; })[0][1] + "</th>";
    }).join("") + "</tr></thead>";
    var rows = body.items.map(function (r) {
      return '<tr data-key="' + esc(r.key) + '"><td><a href="?' + esc(qs({ region: r.key })) + '">' + esc(r.name) + "</a></td>" +
        cols.map(function (c) { return '<td class="num" data-kpi="' + c + '">' + fmt(c, r[c]) + "</td>"; }).join("") + "</tr>";
    }).join("");
    document.getElementById("child-table").innerHTML = head + "<tbody>" + rows + "</tbody>";
  }

  function esc(s) {
    return String(s || "").replace(/[&<>"]/g, function (c) { return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]; });
  }

  function drawWatch(body) {
    var SUP = { yellow: "黄牌", red: "红牌", reminded: "已催办", "": "" };
    function table(id, items) {
      document.getElementById(id).innerHTML =
        "<thead><tr><th>编号</th><th>标题</th><th>事项</th><th>责任单位</th><th>时限</th><th>督办</th></tr></thead><tbody>" +
        items.map(function (e) {
          return "<tr><td>" + esc(e.number) + "</td><td>" + esc(e.title) + "</td><td>" + esc(e.category) +
            "</td><td>" + esc(e.department) + "</td><td>" + esc((e.deadline || "").slice(0, 16).replace("T", " ")) +
            "</td><td>" + esc(SUP[e.supervision] || "") + "</td></tr>";
        }).join("") + "</tbody>";
    }
    table("overdue", body.overdue);
    table("problem", body.problem);
    document.getElementById("overdue-count").textContent = body.overdue_count + " 件";
    document.getElementById("problem-count").textContent = body.problem_count + " 件";
  }

  function drawHot(from, to) {
    var days = Math.max(1, Math.round((new Date(to) - new Date(from)) / 86400000) + 1);
    return fetch("/api/v1/triage/hotspots?" + qs({ days: days, region: region }),
                 { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (b) {
        var items = (b && b.items) || [];
        if (!items.length) { return; }
        document.getElementById("hot").innerHTML = items.slice(0, 10).map(function (h) {
          var label = h.title || h.name || h.category || h.label || h.key || "";
          var n = h.count !== undefined ? h.count : (h.events !== undefined ? h.events : "");
          return "<li>" + esc(label) + (n !== "" ? "（" + esc(n) + " 件）" : "") + "</li>";
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
    status.textContent = "加载中…";
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
      status.textContent = "统计区间 " + from + " 至 " + to;
      document.body.dataset.dashboard = "ready";
    }).catch(function (err) {
      status.textContent = "加载失败：" + err.message;
      document.body.dataset.dashboard = "error";
    });
  }

  form.addEventListener("submit", function (ev) { ev.preventDefault(); load(); });
  window.addEventListener("resize", function () {
    Object.keys(charts).forEach(function (k) { charts[k].resize(); });
  });
  load();
})();
