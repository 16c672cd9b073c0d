// Draws the trend and the per-item bars from the JSON the server rendered into the page.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("page-data").textContent);
  var RED = "#c92a2a", GREEN = "#2b8a3e", BLUE = "#1c7ed6", GREY = "#868e96";
  var pct = function (v) { return v == null ? null : Math.round(v * 10000) / 100; };

  var trendEl = document.getElementById("trend");
  if (trendEl && data.trend.length) {
    var chart = echarts.init(trendEl);
    var rates = data.trend.map(function (p) { return pct(p.rate); });
    var lows = rates.filter(function (v) { return v != null; });
    var targets = data.trend.map(function (p) { return pct(p.target); });
    var lowest = Math.min.apply(null, lows.concat(targets.filter(function (v) { return v != null; })));
    var step = 100 - lowest <= 8 ? 1 : 100 - lowest <= 18 ? 2 : 5;
    var floor = Math.max(0, Math.floor((lowest - step) / step) * step);
    chart.setOption({
      grid: { left: 48, right: 24, top: 32, bottom: 32 },
      tooltip: { trigger: "axis", valueFormatter: function (v) { return v == null ? "—" : v.toFixed(2) + " %"; } },
      legend: { data: [data.labels.rate, data.labels.target], top: 0 },
      xAxis: { type: "category", data: data.trend.map(function (p) { return p.on; }) },
      yAxis: { type: "value", min: floor, max: 100, interval: step, axisLabel: { formatter: "{value} %" } },
      series: [
        { name: data.labels.rate, type: "line", data: rates, smooth: false, symbolSize: 7,
          itemStyle: { color: BLUE }, lineStyle: { width: 3 } },
        { name: data.labels.target, type: "line", data: targets, step: "end", symbol: "none",
          itemStyle: { color: GREY }, lineStyle: { type: "dashed" } }
      ]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  var itemsEl = document.getElementById("items");
  if (itemsEl && data.items.length) {
    var bars = echarts.init(itemsEl);
    var items = data.items.slice().reverse();
    var target = items.reduce(function (t, i) { return i.target != null ? i.target : t; }, null);
    bars.setOption({
      grid: { left: 8, right: 120, top: 24, bottom: 24, containLabel: true },
      tooltip: {
        trigger: "item",
        formatter: function (p) {
          var i = items[p.dataIndex];
          return i.code + " " + i.name + "<br>" + (pct(i.rate) == null ? "—" : pct(i.rate).toFixed(2) + " %") +
            " (" + i.num.toLocaleString() + " / " + i.den.toLocaleString() + ")";
        }
      },
      xAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value} %" } },
      yAxis: { type: "category", data: items.map(function (i) { return i.code + " " + i.name; }),
               axisLabel: { width: 260, overflow: "truncate" } },
      series: [{
        type: "bar", barMaxWidth: 16,
        data: items.map(function (i) {
          return { value: pct(i.rate), itemStyle: { color: i.meets === false ? RED : GREEN } };
        }),
        label: { show: true, position: "right", formatter: function (p) {
          var i = items[p.dataIndex];
          return (p.value == null ? "—" : p.value.toFixed(1) + " %") + "  (" + i.den.toLocaleString() + ")";
        } },
        markLine: target == null ? undefined : {
          symbol: "none", label: { formatter: data.labels.target + " " + pct(target) + " %" },
          lineStyle: { color: GREY, type: "dashed" }, data: [{ xAxis: pct(target) }]
        }
      }]
    });
    window.addEventListener("resize", function () { bars.resize(); });
  }
})();
