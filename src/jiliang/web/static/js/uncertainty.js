// Draws the budget bars and Monte Carlo histograms from the ECharts options the server computed.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("page-data").textContent);
  var draw = function (id, option) {
    var el = document.getElementById(id);
    if (!el || !option) { return; }
    var chart = echarts.init(el);
    chart.setOption(option);
    window.addEventListener("resize", function () { chart.resize(); });
  };
  data.budgets.forEach(function (name, i) { draw("budget-" + i, data.charts[name]); });
  Object.keys(data.histograms).forEach(function (name, i) { draw("histogram-" + i, data.histograms[name]); });
})();
