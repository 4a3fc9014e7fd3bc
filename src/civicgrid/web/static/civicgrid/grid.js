// The grid worker's phone page: "use my position" fills lon/lat from the phone's GPS.
(function () {
  "use strict";
  var btn = document.getElementById("use-gps");
  if (!btn) { return; }
  if (!navigator.geolocation) { btn.hidden = true; return; }
  btn.addEventListener("click", function () {
    var out = document.getElementById("gps-said");
    out.textContent = "正在定位…";
    navigator.geolocation.getCurrentPosition(function (pos) {
      document.getElementById("id_lon").value = pos.coords.longitude.toFixed(6);
      document.getElementById("id_lat").value = pos.coords.latitude.toFixed(6);
      out.textContent = "已定位：" + pos.coords.longitude.toFixed(5) + ", " + pos.coords.latitude.toFixed(5);
    }, function (err) { out.textContent = "定位失败：" + err.message + "，请选择网格"; },
    { enableHighAccuracy: true, timeout: 10000 });
  });
})();
