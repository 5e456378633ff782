/* Self-monitoring charts on the public enterprise page. Each .monitoring-chart[data-url] fetches one series from
   the JSON API and draws it against the limit with ECharts; exceeding periods are marked. The table view beside
   each chart carries the same data for screen readers and for browsers without JavaScript. */
(function () {
  "use strict";
  if (!window.echarts) { return; }

  function seriesFor(s, el) {
    var range = s.limit_value === null;
    var times = s.points.map(function (p) { return p.period.slice(0, 16).replace("T", " "); });
    var lines = [];
    if (range) {
      lines.push({ name: el.dataset.labelMin, type: "line", showSymbol: false, data: s.points.map(function (p) { return p.min; }) });
      lines.push({ name: el.dataset.labelMax, type: "line", showSymbol: false, data: s.points.map(function (p) { return p.max; }) });
    } else {
      lines.push({ name: el.dataset.labelMean, type: "line", showSymbol: false, data: s.points.map(function (p) { return p.mean; }) });
    }
    var marks = [];
    [s.limit_value, s.limit_min, s.limit_max].forEach(function (v) {
      if (v !== null && v !== undefined) { marks.push({ yAxis: v, name: el.dataset.labelLimit }); }
    });
    lines[0].markLine = { silent: true, symbol: "none", lineStyle: { color: "#c62828", type: "dashed" }, data: marks };
    lines.push({
      name: el.dataset.labelExceeds, type: "scatter", symbolSize: 8, itemStyle: { color: "#c62828" },
      data: s.points.map(function (p, i) {
        if (!p.exceeds) { return null; }
        return [times[i], range ? (s.limit_min !== null && p.min < s.limit_min ? p.min : p.max) : p.mean];
      }).filter(function (x) { return x !== null; })
    });
    return { times: times, lines: lines };
  }

  function draw(el, s) {
    var built = seriesFor(s, el);
    el.classList.add("is-ready");  /* hidden until there is something to draw (no blank box without JS) */
    var chart = window.echarts.init(el, null, { renderer: "canvas" });
    chart.setOption({
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 48, right: 48, top: 32, bottom: 56 },
      xAxis: { type: "category", data: built.times },
      yAxis: { type: "value", name: s.unit, scale: true },
      dataZoom: [{ type: "inside" }, { type: "slider", height: 18, bottom: 8 }],
      series: built.lines
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function load(el) {
    fetch(el.dataset.url, { headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        if (body && body.data && body.data.length) { draw(el, body.data[0]); }
      })
      .catch(function () { /* the table view stays available */ });
  }

  /* A chart in a closed <details> (the enterprise page folds its sections) has no size yet: draw it when opened. */
  document.querySelectorAll(".monitoring-chart[data-url]").forEach(function (el) {
    var folded = el.closest("details:not([open])");
    if (!folded) { load(el); return; }
    folded.addEventListener("toggle", function once() {
      if (!folded.open) { return; }
      folded.removeEventListener("toggle", once);
      load(el);
    });
  });
}());
