/* Maps without outside tiles (portal/maps): the public map, the regulators' case map and the location picker.
   Boundaries come from the vendored GeoJSON (data-geo), the points from the portal's JSON (data-src). Every map has
   a list beside it that carries the same information without JavaScript. */
(function () {
  "use strict";
  if (!window.echarts) { return; }
  var geoCache = {};

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(url + " " + r.status); } return r.json(); });
  }

  function loadGeo(url) {
    if (!geoCache[url]) {
      geoCache[url] = getJSON(url).then(function (geo) {
        var name = "portal-" + url.replace(/[^0-9a-z]/gi, "");
        window.echarts.registerMap(name, geo);
        return name;
      });
    }
    return geoCache[url];
  }

  function baseGeo(mapName) {
    return { map: mapName, roam: true, scaleLimit: { min: 1, max: 40 },
             itemStyle: { areaColor: "#eef2f5", borderColor: "#90a4ae", borderWidth: 0.6 },
             emphasis: { disabled: true }, select: { disabled: true }, label: { show: false } };
  }

  function escapeHtml(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function resizeWith(chart) { window.addEventListener("resize", function () { chart.resize(); }); }

  function publicMap(el) {
    Promise.all([loadGeo(el.dataset.geo), getJSON(el.dataset.src)]).then(function (res) {
      var mapName = res[0], data = res[1], d = el.dataset;
      var chart = window.echarts.init(el, null, { renderer: "canvas" });
      var ents = data.enterprises.map(function (p) {
        return { name: p.name, value: [p.lon, p.lat], itemStyle: { color: p.colour }, grade: p.grade_label,
                 incidents: p.open_incidents, url: p.url };
      });
      var open = ents.filter(function (p) { return p.incidents > 0; });
      var maxCell = data.density.reduce(function (m, c) { return Math.max(m, c[2]); }, 1);
      chart.setOption({
        animation: false, aria: { enabled: true },
        tooltip: { trigger: "item", formatter: function (p) {
          if (p.seriesIndex === 2) { return escapeHtml(d.labelComplaints) + ": " + p.value[2]; }
          var x = p.data || {};
          return "<strong>" + escapeHtml(x.name || "") + "</strong><br>" + escapeHtml(d.labelStanding) + ": " +
            escapeHtml(x.grade || "") + (x.incidents ? "<br>" + escapeHtml(d.labelIncidents) + ": " + x.incidents : "");
        } },
        geo: baseGeo(mapName),
        series: [
          { name: d.labelEnterprises, type: "scatter", coordinateSystem: "geo", symbolSize: 7, data: ents, z: 3 },
          { name: d.labelIncidents, type: "scatter", coordinateSystem: "geo", symbolSize: 15, data: open, z: 4,
            itemStyle: { color: "rgba(0,0,0,0)", borderColor: "#c62828", borderWidth: 2 } },
          { name: d.labelComplaints, type: "scatter", coordinateSystem: "geo", z: 2,
            data: data.density, itemStyle: { color: "rgba(106,27,154,0.35)" },
            symbolSize: function (v) { return 6 + 22 * Math.sqrt(v[2] / maxCell); } }
        ]
      });
      chart.on("click", function (p) { if (p.data && p.data.url) { window.location.href = p.data.url; } });
      el.classList.add("is-ready");
      resizeWith(chart);
    }).catch(function () { el.classList.add("is-failed"); });
  }

  function casesMap(el) {
    Promise.all([loadGeo(el.dataset.geo), getJSON(el.dataset.src)]).then(function (res) {
      var chart = window.echarts.init(el, null, { renderer: "canvas" });
      var cases = res[1].cases.map(function (c) {
        return { name: c.case_no, value: [c.lon, c.lat], url: c.url, info: c.category + " · " + c.status };
      });
      chart.setOption({
        animation: false, aria: { enabled: true },
        tooltip: { trigger: "item", formatter: function (p) {
          return "<strong>" + escapeHtml(p.name) + "</strong><br>" + escapeHtml((p.data || {}).info || ""); } },
        geo: baseGeo(res[0]),
        series: [{ name: el.dataset.labelCases, type: "scatter", coordinateSystem: "geo", symbolSize: 10,
                   itemStyle: { color: "#d84315" }, data: cases }]
      });
      chart.on("click", function (p) { if (p.data && p.data.url) { window.location.href = p.data.url; } });
      el.classList.add("is-ready");
      resizeWith(chart);
    }).catch(function () { el.classList.add("is-failed"); });
  }

  function picker(box) {
    var lat = document.getElementById(box.dataset.latField), lon = document.getElementById(box.dataset.lonField);
    if (!lat || !lon) { return; }
    var status = box.querySelector("[data-picker-status]"), chart = null, d = box.dataset;
    box.hidden = false;
    function mark(la, lo) {
      if (chart) { chart.setOption({ series: [{ data: [{ name: d.labelChosen, value: [lo, la] }] }] }); }
    }
    function fill(la, lo) {
      lat.value = la.toFixed(6); lon.value = lo.toFixed(6);
      [lat, lon].forEach(function (f) { f.dispatchEvent(new Event("change", { bubbles: true })); });
      status.textContent = d.msgFilled;
      mark(la, lo);
    }
    box.querySelector("[data-use-location]").addEventListener("click", function () {
      if (!navigator.geolocation) { status.textContent = d.msgDenied; return; }
      status.textContent = d.msgLocating;
      navigator.geolocation.getCurrentPosition(function (pos) {
        fill(pos.coords.latitude, pos.coords.longitude);
      }, function () { status.textContent = d.msgDenied; }, { enableHighAccuracy: true, timeout: 15000 });
    });
    var el = box.querySelector("[data-picker-map]");
    if (!el || !d.geo) { return; }
    loadGeo(d.geo).then(function (mapName) {
      chart = window.echarts.init(el, null, { renderer: "canvas" });
      chart.setOption({ animation: false, aria: { enabled: true }, geo: baseGeo(mapName),
                        series: [{ type: "scatter", coordinateSystem: "geo", symbol: "pin", symbolSize: 28,
                                   itemStyle: { color: "#c62828" }, data: [] }] });
      chart.getZr().on("click", function (e) {
        var pt = chart.convertFromPixel({ geoIndex: 0 }, [e.offsetX, e.offsetY]);
        if (pt && isFinite(pt[0]) && isFinite(pt[1])) { fill(pt[1], pt[0]); }
      });
      if (lat.value && lon.value && isFinite(+lat.value) && isFinite(+lon.value)) { mark(+lat.value, +lon.value); }
      el.classList.add("is-ready");
      resizeWith(chart);
    }).catch(function () { el.hidden = true; });
  }

  document.querySelectorAll("[data-map='public']").forEach(publicMap);
  document.querySelectorAll("[data-map='cases']").forEach(casesMap);
  document.querySelectorAll("[data-location-picker]").forEach(picker);
}());
