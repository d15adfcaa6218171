/* E-supervision monitoring screen: the trend chart, drawn from its JSON endpoint. */
(function () {
  "use strict";

  // Text and margins follow the screen's base size (its CSS scales with the display).
  function unit() {
    return parseFloat(window.getComputedStyle(document.body).fontSize) || 20;
  }

  function draw(chart, data) {
    var u = unit(), text = Math.round(0.8 * u);
    chart.setOption({
      backgroundColor: "transparent",
      animation: false,
      textStyle: { color: "#c9d6ea", fontSize: text },
      grid: { left: 2.4 * u, right: 1.2 * u, top: 2 * u, bottom: 1.8 * u },
      legend: { top: 0, textStyle: { color: "#c9d6ea", fontSize: text },
                data: [data.labels.yellow, data.labels.red] },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: data.days,
               axisLabel: { color: "#8fa3c0", fontSize: Math.round(0.65 * u) } },
      yAxis: { type: "value", minInterval: 1,
               axisLabel: { color: "#8fa3c0", fontSize: Math.round(0.65 * u) },
               splitLine: { lineStyle: { color: "#23324a" } } },
      series: [
        { name: data.labels.yellow, type: "line", smooth: true, data: data.yellow,
          itemStyle: { color: "#f5c242" }, areaStyle: { opacity: 0.15 } },
        { name: data.labels.red, type: "line", smooth: true, data: data.red,
          itemStyle: { color: "#ff5a5a" }, areaStyle: { opacity: 0.15 } }
      ]
    });
  }

  var last = null;

  function load(el, chart) {
    fetch(el.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (data) { last = data; draw(chart, data); el.dataset.loaded = "1"; }
      })
      .catch(function () { /* keep the last picture; the next refresh retries */ });
  }

  function init() {
    var el = document.getElementById("esv-trend");
    if (!el || typeof echarts === "undefined") { return; }
    var chart = echarts.init(el, null, { renderer: "canvas" });
    load(el, chart);
    window.setInterval(function () { load(el, chart); }, 60000);
    window.addEventListener("resize", function () {
      chart.resize();
      if (last) { draw(chart, last); }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
