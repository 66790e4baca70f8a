/* The dashboard (issue 15 point 2): sparklines from the page's data, a tile's detail from one
   JSON request (trend with the target, the branches ranked with a drill-down to their
   institutions, which members moved the figure), and the full-screen mode of the meeting room.
   ECharts is vendored (static/vendor/echarts); nothing comes from a CDN. */
(function () {
  "use strict";
  var root = document.getElementById("dashboard");
  var dataNode = document.getElementById("dashboard-data");
  if (!root || !dataNode || !window.echarts) { return; }
  var data = JSON.parse(dataNode.textContent);
  var labels = JSON.parse(document.getElementById("dashboard-labels").textContent);
  var charts = {};
  var font = { fontFamily: "system-ui, 'Microsoft YaHei', 'PingFang SC', sans-serif" };

  function chart(node, key) {
    if (charts[key]) { charts[key].dispose(); }
    charts[key] = echarts.init(node, null, { renderer: "svg" });
    return charts[key];
  }

  function fixed(value, decimals) {
    return value === null || value === undefined ? "—" : Number(value).toFixed(decimals);
  }

  // --- sparklines ------------------------------------------------------------------------------
  data.tiles.forEach(function (tile) {
    var node = root.querySelector('.sparkline[data-code="' + tile.code + '"]');
    if (!node) { return; }
    chart(node, "spark-" + tile.code).setOption({
      animation: false,
      grid: { left: 2, right: 2, top: 4, bottom: 2 },
      xAxis: { type: "category", show: false, data: data.months },
      yAxis: { type: "value", show: false, scale: true },
      series: [{ type: "line", data: tile.sparkline, symbol: "none", connectNulls: false,
                 lineStyle: { width: 2 }, areaStyle: { opacity: 0.12 } }],
      textStyle: font
    });
  });

  // --- a tile's detail -------------------------------------------------------------------------
  var detail = document.getElementById("tile-detail");
  function open(code) {
    var url = root.dataset.tileUrl + "?alliance=" + encodeURIComponent(root.dataset.alliance) +
      "&month=" + encodeURIComponent(root.dataset.month) + "&indicator=" + encodeURIComponent(code);
    root.querySelectorAll(".tile").forEach(function (tile) {
      tile.setAttribute("aria-expanded", tile.dataset.code === code ? "true" : "false");
    });
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error(response.status); }
        return response.json();
      })
      .then(show)
      .catch(function () {
        detail.hidden = false;
        document.getElementById("detail-title").textContent = labels.failed;
      });
  }

  function show(tile) {
    detail.hidden = false;
    detail.dataset.code = tile.code;
    document.getElementById("detail-title").textContent = tile.name + " · " + tile.month;
    document.getElementById("detail-link").href = tile.value_url;
    document.getElementById("drill").hidden = true;
    trend(tile);
    branches(tile);
    movers(tile);
    detail.scrollIntoView({ block: "nearest" });
  }

  function trend(tile) {
    var series = [{ name: labels.value, type: "line", data: tile.trend.values, connectNulls: false,
                    symbolSize: 5, label: { show: false } }];
    if (tile.trend.target !== null) {
      series[0].markLine = { symbol: "none", lineStyle: { type: "dashed", color: "#c62828" },
                             label: { formatter: labels.target + " {c}" },
                             data: [{ yAxis: tile.trend.target }] };
    }
    chart(document.getElementById("chart-trend"), "trend").setOption({
      animation: false, textStyle: font,
      tooltip: { trigger: "axis" },
      grid: { left: 48, right: 24, top: 24, bottom: 36 },
      xAxis: { type: "category", data: tile.trend.months,
               axisLabel: { interval: 2, hideOverlap: true, formatter: function (m) { return m.slice(2); } } },
      yAxis: { type: "value", scale: true, name: tile.unit_label },
      series: series
    });
  }

  function branches(tile) {
    var node = document.getElementById("chart-branches");
    var empty = document.getElementById("branches-empty");
    var rows = tile.branches;
    empty.hidden = rows.length > 0;
    node.hidden = rows.length === 0;
    if (!rows.length) { return; }
    var ranked = rows.slice().reverse();  // the best on top of a horizontal bar chart
    var bars = chart(node, "branches");
    bars.setOption({
      animation: false, textStyle: font,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      grid: { left: 120, right: 48, top: 8, bottom: 24 },
      xAxis: { type: "value", name: tile.unit_label, splitNumber: 4, axisLabel: { hideOverlap: true } },
      yAxis: { type: "category", data: ranked.map(function (row) { return row.name; }) },
      series: [{ type: "bar", data: ranked.map(function (row) { return row.value; }),
                 label: { show: true, position: "right",
                          formatter: function (p) { return fixed(p.value, tile.decimals); } } }]
    });
    bars.on("click", function (params) { drill(tile, ranked[params.dataIndex]); });
  }

  function drill(tile, branch) {
    var box = document.getElementById("drill");
    var body = document.getElementById("drill-rows");
    document.getElementById("drill-title").textContent = labels.institutionsOf + " " + branch.name;
    body.textContent = "";
    var rows = branch.institutions.length ? branch.institutions : [];
    rows.forEach(function (row) {
      var tr = document.createElement("tr");
      var name = document.createElement("td");
      var link = document.createElement("a");
      link.href = row.url;
      link.textContent = row.name;
      name.appendChild(link);
      var value = document.createElement("td");
      value.textContent = fixed(row.value, tile.decimals);
      var parts = document.createElement("td");
      parts.textContent = fixed(row.numerator, 0) + " / " + fixed(row.denominator, 0);
      tr.append(name, value, parts);
      body.appendChild(tr);
    });
    if (!rows.length) {
      var none = document.createElement("tr");
      none.innerHTML = "<td colspan=3></td>";
      none.firstChild.textContent = labels.noRows;
      body.appendChild(none);
    }
    box.hidden = false;
    box.dataset.branch = branch.id;
  }

  function movers(tile) {
    var node = document.getElementById("chart-movers");
    var summary = document.getElementById("movers-summary");
    var moved = tile.movers;
    if (!moved.splittable) {
      node.hidden = true;
      summary.textContent = moved.reason;
      return;
    }
    node.hidden = false;
    var members = moved.members.slice().reverse();
    var top = moved.members[0];
    // The largest mover's share of the change, when it moved the same way as the whole.
    var share = top && moved.change && top.change * moved.change > 0 ?
      "；" + top.name + " " + labels.explains + " " + Math.round(100 * top.change / moved.change) + "%" : "";
    summary.textContent = fixed(moved.from, tile.decimals) + " → " + fixed(moved.to, tile.decimals) +
      "（" + labels.change + " " + fixed(moved.change, tile.decimals) + "）" + share;
    chart(node, "movers").setOption({
      animation: false, textStyle: font,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      grid: { left: 120, right: 56, top: 8, bottom: 24 },
      xAxis: { type: "value", name: tile.unit_label, splitNumber: 4, axisLabel: { hideOverlap: true } },
      yAxis: { type: "category", data: members.map(function (m) { return m.name; }) },
      series: [{ type: "bar", data: members.map(function (m) {
        return { value: m.change, itemStyle: { color: m.change < 0 ? "#c62828" : "#2e7d32" } };
      }), label: { show: true, position: "right",
                   formatter: function (p) { return fixed(p.value, tile.decimals + 1); } } }]
    });
  }

  root.querySelectorAll(".tile").forEach(function (tile) {
    tile.addEventListener("click", function () { open(tile.dataset.code); });
  });
  document.getElementById("detail-close").addEventListener("click", function () { detail.hidden = true; });

  // --- full screen for the meeting room ---------------------------------------------------------
  var button = document.getElementById("fullscreen");
  function resize() { Object.keys(charts).forEach(function (key) { charts[key].resize(); }); }
  if (button) {
    button.addEventListener("click", function () {
      var on = !root.classList.contains("wall");
      root.classList.toggle("wall", on);
      document.body.classList.toggle("wall-mode", on);
      button.setAttribute("aria-pressed", on ? "true" : "false");
      if (on && document.documentElement.requestFullscreen) {
        document.documentElement.requestFullscreen().catch(function () {});
      } else if (!on && document.fullscreenElement) {
        document.exitFullscreen().catch(function () {});
      }
      setTimeout(resize, 50);
    });
  }
  document.addEventListener("fullscreenchange", function () {
    if (!document.fullscreenElement && root.classList.contains("wall") && button) { button.click(); }
  });
  if (root.classList.contains("wall")) { document.body.classList.add("wall-mode"); }
  window.addEventListener("resize", resize);
})();
