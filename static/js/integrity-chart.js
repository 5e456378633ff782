/* Integrity flag page: draws the data window the rule saw (hourly values from data-chart), the rule's threshold
   as a dashed line, the flagged window as a shaded band and flagged or missing hours as marks. The table view
   beside it carries the same values without JavaScript. */
(function () {
  "use strict";
  if (!window.echarts) { return; }

  function label(d) {  /* China time (UTC+8), whatever the browser's zone */
    var c = new Date(d.getTime() + 8 * 3600000);
    var z = function (n) { return (n < 10 ? "0" : "") + n; };
    return c.getUTCFullYear() + "-" + z(c.getUTCMonth() + 1) + "-" + z(c.getUTCDate()) + " " + z(c.getUTCHours()) + ":00";
  }

  function draw(el, c) {
    var s = c.series || {};
    var values = s.values || [];
    if (!values.length) { return; }
    var start = new Date(s.start);
    var times = values.map(function (_, i) { return label(new Date(start.getTime() + i * 3600000)); });
    var w0 = label(new Date(c.window[0])), w1 = label(new Date(new Date(c.window[1]).getTime() - 3600000));
    var main = { name: el.dataset.labelValue + " " + (c.code || ""), type: "line", showSymbol: false, data: values,
                 connectNulls: false, markArea: { silent: true, itemStyle: { color: "rgba(198,40,40,0.08)" },
                 data: [[{ name: el.dataset.labelWindow, xAxis: w0 }, { xAxis: w1 }]] } };
    if (c.threshold !== null && c.threshold !== undefined) {
      main.markLine = { silent: true, symbol: "none", lineStyle: { color: "#c62828", type: "dashed" },
                        data: [{ yAxis: c.threshold, name: el.dataset.labelThreshold }] };
    }
    var series = [main];
    var flags = s.flags || [];
    series.push({ name: el.dataset.labelInvalid, type: "scatter", symbolSize: 6, itemStyle: { color: "#8d6e63" },
                  data: flags.map(function (f, i) { return f && f !== "N" ? [times[i], 0] : null; })
                             .filter(function (x) { return x !== null; }) });
    Object.keys(s.extra || {}).forEach(function (name) {
      series.push({ name: name, type: "line", showSymbol: false, yAxisIndex: 1, data: s.extra[name],
                    lineStyle: { type: "dotted" } });
    });
    el.classList.add("is-ready");
    var chart = window.echarts.init(el, null, { renderer: "canvas" });
    chart.setOption({
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 48, right: 56, top: 32, bottom: 56 },
      xAxis: { type: "category", data: times },
      yAxis: [{ type: "value", scale: true }, { type: "value", scale: true, splitLine: { show: false } }],
      dataZoom: [{ type: "inside" }, { type: "slider", height: 18, bottom: 8 }],
      series: series
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  document.querySelectorAll(".integrity-chart[data-chart]").forEach(function (el) {
    try { draw(el, JSON.parse(el.dataset.chart)); } catch (e) { /* the table view stays available */ }
  });
}());
