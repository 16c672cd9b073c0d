// Draws a warning's evidence from the JSON the server rendered into the page (the same numbers are in
// the table below the chart): a device's readings around the one that raised the warning, or an energy
// balance's parent meter against its children.
(function () {
  "use strict";
  var el = document.getElementById("evidence-chart");
  var holder = document.getElementById("page-data");
  if (!el || !holder || typeof echarts === "undefined") { return; }
  var data = JSON.parse(holder.textContent);
  var s = data.series, zh = data.lang === "zh";
  var COLOURS = ["#1c7ed6", "#e8590c", "#2b8a3e", "#862e9c"];
  var chart = echarts.init(el);
  if (s.kind === "readings") {
    var times = s.points.map(function (p) { return p.time; });
    var trigger = s.points.findIndex(function (p) { return p.trigger; });
    var series = s.columns.map(function (c, i) {
      return {
        name: zh ? c.zh : c.en, type: "line", symbolSize: 5, connectNulls: false,
        // a different dash per series as well as a colour: nothing by colour alone
        lineStyle: { width: 2, type: i === 0 ? "solid" : "dashed" }, itemStyle: { color: COLOURS[i % 4] },
        data: s.points.map(function (p) { return p.values[i]; }),
        markLine: i !== 0 || trigger < 0 ? undefined : {
          symbol: "none", lineStyle: { color: "#c92a2a", type: "dotted", width: 2 },
          label: { formatter: data.labels.trigger, position: "insideEndTop" },
          data: [{ xAxis: trigger }]
        }
      };
    });
    chart.setOption({
      grid: { left: 56, right: 16, top: 40, bottom: 56 },
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      dataZoom: [{ type: "inside" }, { type: "slider", height: 16, bottom: 8 }],
      xAxis: { type: "category", data: times },
      yAxis: { type: "value", scale: true },
      series: series
    });
  } else {
    var names = s.points.map(function (p) { return p.node; });
    chart.setOption({
      grid: { left: 8, right: 24, top: 24, bottom: 24, containLabel: true },
      tooltip: { trigger: "item" },
      xAxis: { type: "category", data: names },
      yAxis: { type: "value" },
      series: [{
        type: "bar", barMaxWidth: 40,
        label: { show: true, position: "top", formatter: function (p) {
          return (s.points[p.dataIndex].role === "parent" ? data.labels.parent : data.labels.child); } },
        data: s.points.map(function (p) {
          return { value: p.value, itemStyle: { color: p.role === "parent" ? "#1c7ed6" : "#868e96",
                   decal: p.role === "parent" ? undefined : { symbol: "rect", dashArrayX: [1, 0], dashArrayY: [2, 4] } } };
        })
      }]
    });
  }
  window.addEventListener("resize", function () { chart.resize(); });
})();
