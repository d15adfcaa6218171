/* E-supervision monitoring screen: the trend chart, drawn from its JSON endpoint. */
(function () {
  "use strict";

  function draw(chart, data) {
    chart.setOption({
      backgroundColor: "transparent",
      animation: false,
      textStyle: { color: "#c9d6ea", fontSize: 16 },
      grid: { left: 48, right: 24, top: 40, bottom: 36 },
      legend: { top: 0, textStyle: { color: "#c9d6ea", fontSize: 16 },
                data: [data.labels.yellow, data.labels.red] },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: data.days, axisLabel: { color: "#8fa3c0" } },
      yAxis: { type: "value", minInterval: 1, axisLabel: { color: "#8fa3c0" },
               splitLine: { lineStyle: { color: "#23324a" } } },
      series: [
        { name: data.labels.yellow, type: "line", smooth: true, data: data.yellow,
          itemStyle: { color: "#f5c242" }, areaStyle: { opacity: 0.15 } },
        { name: data.labels.red, type: "line", smooth: true, data: data.red,
          itemStyle: { color: "#ff5a5a" }, areaStyle: { opacity: 0.15 } }
      ]
    });
  }

  function load(el, chart) {
    fetch(el.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) { draw(chart, data); el.dataset.loaded = "1"; } })
      .catch(function () { /* keep the last picture; the next refresh retries */ });
  }

  function init() {
    var el = document.getElementById("esv-trend");
    if (!el || typeof echarts === "undefined") { return; }
    var chart = echarts.init(el, null, { renderer: "canvas" });
    load(el, chart);
    window.setInterval(function () { load(el, chart); }, 60000);
    window.addEventListener("resize", function () { chart.resize(); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
