/* The monthly report's 12-month charts (issue 15 point 4), drawn as SVG so they print sharply. */
(function () {
  "use strict";
  var node = document.getElementById("dashboard-data");
  if (!node || !window.echarts) { return; }
  var data = JSON.parse(node.textContent);
  data.tiles.forEach(function (tile) {
    var box = document.querySelector('.report-chart[data-code="' + tile.code + '"]');
    if (!box) { return; }
    var series = [{ type: "line", data: tile.sparkline, symbol: "none", lineStyle: { width: 1.5, color: "#1f2328" } }];
    if (tile.target !== null) {
      series[0].markLine = { symbol: "none", silent: true, label: { show: false },
                             lineStyle: { type: "dashed", color: "#c62828", width: 1 }, data: [{ yAxis: tile.target }] };
    }
    echarts.init(box, null, { renderer: "svg" }).setOption({
      animation: false,
      grid: { left: 1, right: 1, top: 2, bottom: 2 },
      xAxis: { type: "category", show: false, data: data.months },
      yAxis: { type: "value", show: false, scale: true },
      series: series
    });
  });
})();
