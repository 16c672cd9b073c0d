// Draws a traceability chain (from the item at the foot up to its anchor) from the JSON in the page.
// The table beside it holds the same links, for readers who do not see the graph.
(function () {
  "use strict";
  var el = document.getElementById("chain-graph");
  var source = document.getElementById("chain-data");
  if (!el || !source || typeof echarts === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var nodes = data.nodes;
  var n = nodes.length;
  var chart = echarts.init(el);
  chart.setOption({
    tooltip: { formatter: function (p) { return p.data.name + (p.data.note ? " · " + p.data.note : ""); } },
    series: [{
      type: "graph",
      layout: "none",
      symbol: "roundRect",
      symbolSize: [220, 40],
      label: { show: true, width: 200, overflow: "truncate", color: "#111" },
      edgeSymbol: ["none", "arrow"],
      lineStyle: { color: "#495057", width: 2 },
      data: nodes.map(function (node, i) {
        return {
          name: (i + 1) + ". " + node.name,
          note: node.label,
          x: 0,
          y: (n - i) * 80,
          itemStyle: { color: node.ok ? "#d3f9d8" : "#ffe3e3", borderColor: node.ok ? "#2b8a3e" : "#c92a2a", borderWidth: 2 }
        };
      }),
      links: nodes.slice(1).map(function (node, i) {
        return { source: (i + 1) + ". " + nodes[i].name, target: (i + 2) + ". " + node.name };
      })
    }]
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
