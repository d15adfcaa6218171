/* E-supervision: a department's monthly evaluation scores, drawn from its JSON endpoint. */
(function () {
  "use strict";
  function init() {
    var el = document.getElementById("esv-history");
    if (!el || typeof echarts === "undefined") { return; }
    var chart = echarts.init(el);
    fetch(el.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        chart.setOption({
          animation: false,
          tooltip: { trigger: "axis" },
          legend: { data: [data.labels.total, data.labels.rank] },
          xAxis: { type: "category", data: data.months },
          yAxis: [{ type: "value", min: 0, max: 100 },
                  { type: "value", inverse: true, minInterval: 1 }],
          series: [
            { name: data.labels.total, type: "line", data: data.totals, itemStyle: { color: "#a61b1b" } },
            { name: data.labels.rank, type: "bar", yAxisIndex: 1, data: data.ranks,
              itemStyle: { color: "#9cb3d6" } }
          ]
        });
        el.dataset.loaded = "1";
      });
    window.addEventListener("resize", function () { chart.resize(); });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); }
  else { init(); }
})();
