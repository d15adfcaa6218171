/* The amounts-by-method chart of the procurement statistics (data in data-chart). */
(function () {
  "use strict";
  function draw() {
    var el = document.getElementById("pc-chart");
    if (!el || typeof echarts === "undefined") { return; }
    var data = JSON.parse(el.getAttribute("data-chart") || "{}");
    var chart = echarts.init(el);
    chart.setOption({
      tooltip: { trigger: "axis" },
      grid: { left: 140, right: 20, top: 20, bottom: 30 },
      xAxis: { type: "value" },
      yAxis: { type: "category", data: data.labels || [] },
      series: [{ type: "bar", data: data.amounts || [], itemStyle: { color: "#a61b1b" } }]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }
  document.addEventListener("DOMContentLoaded", draw);
})();
