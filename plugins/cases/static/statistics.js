/* The charts of the case supervision statistics (data in data-chart): items by channel,
   cases open now by stage. ECharts is vendored under static/vendor. */
(function () {
  "use strict";
  function bar(el, labels, values, name) {
    var chart = echarts.init(el);
    chart.setOption({
      tooltip: { trigger: "axis" },
      grid: { left: 160, right: 20, top: 10, bottom: 30 },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: labels },
      series: [{ type: "bar", name: name, data: values, itemStyle: { color: "#a61b1b" } }]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }
  function draw() {
    var el = document.getElementById("cs-chart-channels");
    if (!el || typeof echarts === "undefined") { return; }
    var data = JSON.parse(el.getAttribute("data-chart") || "{}");
    bar(el, data.channels || [], data.received || [], data.received_label);
    var st = document.getElementById("cs-chart-stages");
    if (st) { bar(st, data.stages || [], data.open || [], data.open_label); }
  }
  document.addEventListener("DOMContentLoaded", draw);
})();
