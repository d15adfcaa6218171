/* Risk prevention: the evaluation charts (department scores of a run, a department's
   scores over the periods), drawn from the data-chart attribute with the vendored ECharts. */
(function () {
  "use strict";
  function init() {
    var el = document.getElementById("rk-eval-chart");
    if (!el || typeof echarts === "undefined") { return; }
    var data = JSON.parse(el.dataset.chart);
    var chart = echarts.init(el);
    var series = [{ name: data.name, type: el.dataset.kind === "line" ? "line" : "bar",
                    data: data.scores, itemStyle: { color: "#a61b1b" } }];
    var yAxis = [{ type: "value", min: 0, max: 100 }];
    if (data.ranks) {
      yAxis.push({ type: "value", inverse: true, minInterval: 1 });
      series.push({ name: data.rank, type: "bar", yAxisIndex: 1, data: data.ranks,
                    itemStyle: { color: "#9cb3d6" } });
    }
    chart.setOption({ animation: false, tooltip: { trigger: "axis" },
                      xAxis: { type: "category", data: data.labels, axisLabel: { interval: 0, rotate: 30 } },
                      yAxis: yAxis, series: series });
    el.dataset.loaded = "1";
    window.addEventListener("resize", function () { chart.resize(); });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); }
  else { init(); }
})();
