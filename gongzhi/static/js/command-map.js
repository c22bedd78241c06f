// 民情地图 (/command/map/): the grids of the unit in view coloured red/yellow/blue, its children outlined to drill
// into, a grid's open cases as clustered dots, and the panel beside the map (server-rendered HTML, the same the
// page shows without JavaScript). Boundaries arrive quantised (gongzhi/analytics/shapes.py says how); they and
// the colours are revalidated by ETag, so going back up costs a 304. Texts and URLs come from data-* attributes.
(function () {
  "use strict";
  var box = document.getElementById("command-map");
  var panelBox = document.getElementById("map-panel");
  if (!box || !panelBox || !window.L || !window.fetch) { return; }
  var L = window.L;
  var cfg = box.dataset;
  var status = document.querySelector(".map-status");
  var COLOURS = { r: "#c8102e", y: "#e6a800", b: "#2f6fb0" };
  var FLAGS = { red: "#c8102e", yellow: "#e6a800", green: "#2e8540" };
  var FLAG_RANK = { red: 0, yellow: 1, green: 2 };
  var shift = cfg.tilesCrs === "gcj02" && window.wgs84ToGcj02
    ? window.wgs84ToGcj02 : function (lat, lng) { return [lat, lng]; };

  var renderer = L.canvas({ padding: 0.2, tolerance: 4 });
  var map = L.map(box, { renderer: renderer, zoomSnap: 0.25, minZoom: 3, maxZoom: 18 });
  map.attributionControl.setPrefix("Leaflet");
  if (cfg.tilesUrl) {
    L.tileLayer(cfg.tilesUrl, { attribution: cfg.tilesAttribution, subdomains: cfg.tilesSubdomains || "abc",
                                maxZoom: 18 }).addTo(map);
  }
  var gridLayer = L.layerGroup().addTo(map);
  var unitLayer = L.layerGroup().addTo(map);
  var caseLayer = L.markerClusterGroup
    ? L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 40, iconCreateFunction: clusterIcon })
    : L.layerGroup();
  caseLayer.addTo(map);

  var current = { unit: null, shapesUnit: null, grids: {}, bounds: null };
  var loadSeq = 0;

  function say(message) { status.textContent = message || ""; status.hidden = !message; }

  function url(template, id) { return template.replace("/0/", "/" + id + "/"); }

  function getJson(template, id) {
    return fetch(url(template, id), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(response.status); }
        return response.json();
      });
  }

  // ring = [x0, y0, dx1, dy1, …] on a grid of `step` degrees from the box's south-west corner.
  function decodeGeometry(geometry, data) {
    var west = data.bbox[0], south = data.bbox[1], step = data.step;
    return geometry.map(function (polygon) {
      return polygon.map(function (ring) {
        var points = [], x = 0, y = 0;
        for (var i = 0; i < ring.length; i += 2) {
          x += ring[i];
          y += ring[i + 1];
          points.push(shift(south + y * step, west + x * step));
        }
        return points;
      });
    });
  }

  function drawShapes(data) {
    gridLayer.clearLayers();
    unitLayer.clearLayers();
    current.grids = {};
    var outlined = data.units.length > 0;
    data.grids.forEach(function (row) {
      var polygon = L.polygon(decodeGeometry(row[1], data), {
        renderer: renderer, stroke: !outlined, weight: 1, color: "#ffffff", opacity: 0.9,
        fillColor: COLOURS.b, fillOpacity: 0.55, interactive: !outlined
      });
      if (!outlined) {
        polygon.bindTooltip(row[2], { sticky: true });
        polygon.on("click", function () { show(row[0], true); });
      }
      current.grids[row[0]] = polygon;
      gridLayer.addLayer(polygon);
    });
    data.units.forEach(function (row) {
      var polygon = L.polygon(decodeGeometry(row[2], data), {
        renderer: renderer, weight: 2, color: "#1b1b1b", opacity: 0.8, fill: true, fillOpacity: 0
      });
      polygon.bindTooltip(row[1], { sticky: true });
      polygon.on("click", function () { show(row[0], true); });
      unitLayer.addLayer(polygon);
    });
    current.bounds = data.bbox
      ? L.latLngBounds(shift(data.bbox[1], data.bbox[0]), shift(data.bbox[3], data.bbox[2])) : null;
  }

  function paint(colours) {
    var id = 0;
    for (var i = 0; i < colours.ids.length; i++) {
      id += colours.ids[i];
      var polygon = current.grids[id];
      if (polygon) { polygon.setStyle({ fillColor: COLOURS[colours.colours[i]] }); }
    }
  }

  function clusterIcon(cluster) {
    var worst = "green";
    cluster.getAllChildMarkers().forEach(function (marker) {
      if (FLAG_RANK[marker.options.flag] < FLAG_RANK[worst]) { worst = marker.options.flag; }
    });
    return L.divIcon({ html: "<span>" + cluster.getChildCount() + "</span>",
                       className: "case-cluster case-cluster-" + worst, iconSize: L.point(34, 34) });
  }

  function popup(row) {
    var wrap = document.createElement("div");
    var link = document.createElement("a");
    link.href = url(cfg.caseUrl, row[0]);
    link.textContent = row[4];
    var line = document.createElement("div");
    line.textContent = row[5] + " · " + (cfg["text" + row[3].charAt(0).toUpperCase() + row[3].slice(1)] || "");
    wrap.appendChild(link);
    wrap.appendChild(line);
    return wrap;
  }

  function drawCases(data) {
    caseLayer.clearLayers();
    var note = panelBox.querySelector(".map-case-note");
    data.cases.forEach(function (row) {
      var marker = L.circleMarker(shift(row[1], row[2]), {
        renderer: renderer, radius: 7, weight: 2, color: "#ffffff", fillColor: FLAGS[row[3]] || FLAGS.green,
        fillOpacity: 1, flag: row[3] in FLAG_RANK ? row[3] : "green"
      });
      marker.bindPopup(function () { return popup(row); });
      caseLayer.addLayer(marker);
    });
    if (note && data.total > data.cases.length) {
      note.textContent = cfg.textShown.replace("{shown}", data.cases.length).replace("{total}", data.total);
      note.hidden = false;
    }
  }

  function focus(panel) {
    var grid = panel.dataset.level === "grid" ? current.grids[panel.dataset.unit] : null;
    Object.keys(current.grids).forEach(function (id) {
      current.grids[id].setStyle(id === panel.dataset.unit ? { weight: 4, color: "#1b1b1b" }
                                                           : { weight: 1, color: "#ffffff" });
    });
    var bounds = grid ? grid.getBounds() : current.bounds;
    if (bounds) { map.fitBounds(bounds, { padding: [16, 16], maxZoom: 18, animate: false }); } else { map.setView([35, 105], 4); }
  }

  // Show a unit: its panel first (which says whose boundaries to draw), then boundaries and colours, then cases.
  function show(unitId, push) {
    var seq = ++loadSeq;
    say(cfg.textLoading);
    fetch(url(cfg.panelUrl, unitId), { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error(response.status); }
        return response.text();
      })
      .then(function (html) {
        if (seq !== loadSeq) { return null; }
        panelBox.innerHTML = html;
        var panel = panelBox.querySelector(".map-panel-body");
        if (push) { history.pushState({ unit: unitId }, "", "?unit=" + unitId); }
        return render(panel, seq);
      })
      .catch(function () { if (seq === loadSeq) { say(cfg.textFailed); } });
  }

  function render(panel, seq) {
    var shapesUnit = panel.dataset.shapesUnit;
    var loads = [getJson(cfg.coloursUrl, shapesUnit)];
    if (shapesUnit !== current.shapesUnit) { loads.push(getJson(cfg.shapesUrl, shapesUnit)); }
    caseLayer.clearLayers();
    return Promise.all(loads).then(function (results) {
      if (seq !== loadSeq) { return; }
      if (results[1]) { drawShapes(results[1]); current.shapesUnit = shapesUnit; }
      paint(results[0]);
      focus(panel);
      current.unit = panel.dataset.unit;
      say("");
      var unit = current.unit;
      // After the canvas's own redraw, queued for this same frame: what bench/map.py times as the first view.
      requestAnimationFrame(function () {
        performance.mark("map-ready");
        document.documentElement.setAttribute("data-map-ready", unit);
      });
      if (panel.dataset.marksCases) {
        return getJson(cfg.casesUrl, panel.dataset.unit).then(function (cases) {
          if (seq === loadSeq) { drawCases(cases); }
        });
      }
    });
  }

  // Links in the panel (breadcrumbs, children) and the 我的辖区 list drill in place instead of reloading.
  document.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-unit]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) { return; }
    event.preventDefault();
    show(link.dataset.unit, true);
  });
  window.addEventListener("popstate", function (event) {
    var unit = event.state && event.state.unit;
    show(unit || panelBox.querySelector(".map-panel-body").dataset.unit, false);
  });

  var first = panelBox.querySelector(".map-panel-body");
  history.replaceState({ unit: first.dataset.unit }, "");
  say(cfg.textLoading);
  render(first, ++loadSeq).catch(function () { say(cfg.textFailed); });
})();
