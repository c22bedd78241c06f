// 数据看板 and 大屏 (command/dashboard.html, command/dashboard_screen.html).
// - Charts: ECharts (vendored) draws the trend and the category mix from the page's json_script data; the tables
//   under "数据表" are their text version (open without JavaScript or ECharts, folded once a chart is drawn).
// - Live stream: every few seconds while the tab is visible, ask the poll URL for cases after the newest shown
//   (204: none, with X-Stream-After when cases came in elsewhere; JSON {last, cases}: new ones, newest first) and
//   put them on top. A signed-out session answers with a redirect: the normal page stops polling, the big screen
//   reloads (and shows the login page). A failed request is retried after 30 s.
// - Big screen: the panels take turns every data-rotate-seconds (a button stops it), a clock, and the page reloads
//   its figures every data-reload-seconds.
(function () {
  "use strict";
  var root = document.getElementById("dashboard");
  if (!root) return;
  var screen = root.getAttribute("data-screen") === "true";
  var dataNode = document.getElementById("dashboard-data");
  var data = dataNode ? JSON.parse(dataNode.textContent) : null;
  var charts = [];
  var mixCharts = [];  // redraws a mix chart when it crosses the narrow width
  var COLOURS = screen ? ["#4fc3f7", "#7bd88f", "#ffd166", "#f78c6b", "#c792ea", "#82aaff", "#f07178", "#a3be8c", "#b0bec5"]
                       : ["#2f6fb0", "#2e8540", "#c98a00", "#b5482a", "#6f4ea1", "#1b7f8c", "#a3201a", "#5b6b2f", "#6b7280"];
  var FONT = screen ? 18 : 13;

  // ---------------------------------------------------------------------------------------------------------
  // Charts

  function trendOption(scale) {
    var series = data.trends[scale], text = data.text;
    return {
      backgroundColor: "transparent",
      color: COLOURS,
      textStyle: {fontSize: FONT},
      tooltip: {trigger: "axis"},
      legend: {data: [text.reported, text.handled], textStyle: {fontSize: FONT}, top: 0},
      grid: {left: 8, right: 16, top: FONT * 3, bottom: 8, containLabel: true},
      xAxis: {type: "category", data: series.labels, axisLabel: {fontSize: FONT}},
      yAxis: {type: "value", minInterval: 1, axisLabel: {fontSize: FONT}},
      series: [
        {name: text.reported, type: "bar", data: series.reported, barMaxWidth: 28},
        {name: text.handled, type: "line", data: series.handled, symbolSize: screen ? 8 : 5,
         lineStyle: {width: screen ? 3 : 2}}
      ]
    };
  }

  function mixOption(mix, narrow) {
    // Narrow (a phone): no labels around the ring, which would be cut off, but a legend under it.
    var items = mix.names.map(function (name, i) { return {name: name, value: mix.values[i]}; });
    return {
      backgroundColor: "transparent",
      color: COLOURS,
      textStyle: {fontSize: FONT},
      title: {text: mix.title, left: "center", top: 0, textStyle: {fontSize: FONT + 2}},
      tooltip: {trigger: "item", formatter: "{b}: {c} ({d}%)"},
      legend: narrow ? {type: "scroll", bottom: 0, textStyle: {fontSize: FONT - 1}} : {show: false},
      series: [{
        type: "pie", radius: narrow ? ["28%", "50%"] : ["35%", "62%"], center: ["50%", narrow ? "45%" : "55%"],
        data: items, minShowLabelAngle: 6,
        label: {show: !narrow, fontSize: FONT - 1, formatter: "{b}\n{c}" + data.text.cases}
      }]
    };
  }

  function chart(id) {
    var node = document.getElementById(id);
    if (!node) return null;
    var made = window.echarts.init(node, screen ? "dark" : null, {renderer: "canvas"});
    charts.push(made);
    return made;
  }

  function drawCharts() {
    if (!window.echarts || !data) return;
    root.classList.add("charts-drawn");  // gives the charts their height before ECharts measures them
    var trend = chart("trend-chart");
    if (trend) {
      trend.setOption(trendOption("day"));
      var buttons = root.querySelectorAll(".chart-switch button");
      var tables = root.querySelectorAll("[data-scale-table]");
      var pick = function (scale) {
        trend.setOption(trendOption(scale), true);
        buttons.forEach(function (b) { b.setAttribute("aria-pressed", String(b.getAttribute("data-scale") === scale)); });
        tables.forEach(function (t) { t.hidden = t.getAttribute("data-scale-table") !== scale; });
      };
      buttons.forEach(function (b) {
        b.addEventListener("click", function () { pick(b.getAttribute("data-scale")); });
      });
      root.querySelectorAll(".chart-switch").forEach(function (s) { s.hidden = false; });
      pick("day");
    }
    Object.keys(data.mix).forEach(function (key) {
      var made = chart("mix-" + key + "-chart");
      if (!made) return;
      var narrow = null;
      var draw = function () {
        var now = made.getWidth() < 420;
        if (now !== narrow) made.setOption(mixOption(data.mix[key], now), true);
        narrow = now;
      };
      draw();
      mixCharts.push(draw);
    });
    root.querySelectorAll("details.chart-table").forEach(function (d) { d.open = false; });
    window.addEventListener("resize", resizeCharts);
  }

  function resizeCharts() {
    charts.forEach(function (c) { c.resize(); });
    mixCharts.forEach(function (draw) { draw(); });
  }

  // ---------------------------------------------------------------------------------------------------------
  // The live stream

  var list = document.getElementById("live-stream");
  var announce = document.getElementById("stream-announce");
  var empty = root.querySelector(".stream-empty");
  var after = list ? Number(list.getAttribute("data-after")) || 0 : 0;
  var every = list ? Number(list.getAttribute("data-every")) * 1000 : 3000;
  var size = list ? Number(list.getAttribute("data-size")) : 12;
  var timer = null;
  var stopped = false;

  function item(c) {
    var li = document.createElement("li");
    li.className = "stream-item stream-new";
    var a = document.createElement("a");
    a.href = c.url;
    [["stream-time", c.time], ["stream-category", c.category], ["stream-place", c.place],
     ["stream-status flag-" + (c.flag || "none"), c.status]].forEach(function (part, i) {
      var span = document.createElement("span");
      span.className = part[0];
      span.textContent = part[1];
      if (i) a.appendChild(document.createTextNode(" "));
      a.appendChild(span);
    });
    li.appendChild(a);
    window.setTimeout(function () { li.classList.remove("stream-new"); }, 10000);
    return li;
  }

  function add(answer) {
    for (var i = answer.cases.length - 1; i >= 0; i--) list.insertBefore(item(answer.cases[i]), list.firstChild);
    while (list.children.length > size) list.removeChild(list.lastChild);
    after = Math.max(after, answer.last);
    if (empty) empty.hidden = true;
    var newest = answer.cases[0];
    if (announce && data) announce.textContent = data.text.new_case + " " + newest.category + " " + newest.place;
  }

  function schedule(wait) {
    window.clearTimeout(timer);
    if (!stopped && (screen || document.visibilityState === "visible")) timer = window.setTimeout(poll, wait || every);
  }

  function poll() {
    var url = list.getAttribute("data-poll-url") + "&after=" + after;
    fetch(url, {credentials: "same-origin", redirect: "manual", headers: {"Accept": "application/json"}})
      .then(function (response) {
        if (response.type === "opaqueredirect") {  // signed out
          stopped = true;
          if (screen) window.location.reload();
          return null;
        }
        if (response.status === 204) {
          var moved = Number(response.headers.get("X-Stream-After"));
          if (moved > after) after = moved;
          return null;
        }
        if (response.status !== 200) throw new Error("poll: " + response.status);
        return response.json();
      })
      .then(function (answer) {
        if (answer && answer.cases && answer.cases.length) add(answer);
        schedule();
      })
      .catch(function () { schedule(30000); });
  }

  if (list && window.fetch) {
    document.addEventListener("visibilitychange", function () {
      window.clearTimeout(timer);
      if (document.visibilityState === "visible" && !stopped) poll();
    });
    schedule();
  }

  // ---------------------------------------------------------------------------------------------------------
  // The big screen

  function startScreen() {
    var panels = Array.prototype.slice.call(root.querySelectorAll("[data-panel]"));
    var tabs = root.querySelector(".panel-tabs");
    var pause = root.querySelector(".panel-pause");
    var rotate = Number(root.getAttribute("data-rotate-seconds")) * 1000;
    var reload = Number(root.getAttribute("data-reload-seconds")) * 1000;
    var index = 0, paused = false;

    function show(i) {
      index = i;
      panels.forEach(function (panel, j) { panel.hidden = j !== i; });
      tabs.querySelectorAll("[data-show]").forEach(function (b) {
        b.setAttribute("aria-pressed", String(b.getAttribute("data-show") === panels[i].getAttribute("data-panel")));
      });
      resizeCharts();
    }

    tabs.hidden = false;
    tabs.querySelectorAll("[data-show]").forEach(function (b) {
      b.addEventListener("click", function () {
        var name = b.getAttribute("data-show");
        show(panels.findIndex(function (p) { return p.getAttribute("data-panel") === name; }));
      });
    });
    pause.addEventListener("click", function () {
      paused = !paused;
      pause.setAttribute("aria-pressed", String(paused));
    });
    show(0);
    window.setInterval(function () { if (!paused) show((index + 1) % panels.length); }, rotate);

    var clock = document.getElementById("screen-clock");
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    window.setInterval(function () {
      var d = new Date();
      clock.textContent = d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " +
        pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
    }, 1000);
    if (reload > 0) window.setTimeout(function () { window.location.reload(); }, reload);
  }

  drawCharts();  // before the panels are hidden, so that each chart is measured at its size
  if (screen) startScreen();
})();
