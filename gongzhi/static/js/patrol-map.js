// 巡查走访 › a worker (command/fieldwork/worker.html): one patrol on the map — its grid's outline, its track (the
// server leaves out poor fixes and jumps and thins it to 2,000 points), start and end, the visits recorded on it
// and the cases found on it (a click opens the case). Data stays WGS84; on GCJ-02 tiles everything drawn is
// shifted (gcj02.js), as on the other maps. Settings and texts come from data-* attributes.
(function () {
  "use strict";
  var box = document.getElementById("patrol-map");
  if (!box || !window.L || !window.fetch) { return; }
  var L = window.L;
  var cfg = box.dataset;
  var status = document.querySelector(".map-status");
  var shift = cfg.tilesCrs === "gcj02" && window.wgs84ToGcj02
    ? window.wgs84ToGcj02 : function (lat, lng) { return [lat, lng]; };

  function say(text) { if (status) { status.textContent = text || ""; status.hidden = !text; } }

  var map = L.map(box, { zoomSnap: 0.25, maxZoom: 19 });
  map.attributionControl.setPrefix("Leaflet");
  if (cfg.tilesUrl) {
    L.tileLayer(cfg.tilesUrl, { attribution: cfg.tilesAttribution, subdomains: cfg.tilesSubdomains || "abc",
                                maxZoom: 19 }).addTo(map);
  }

  function dot(latlng, colour, radius) {
    return L.circleMarker(latlng, { radius: radius || 7, weight: 2, color: "#ffffff", fillColor: colour, fillOpacity: 1 });
  }

  function draw(data) {
    // The view fits what the patrol did (track, visits, cases); the grid's outline only when there is nothing.
    var bounds = L.latLngBounds([]);
    var outline = null;
    if (data.outline) {
      outline = L.polygon(data.outline.map(function (p) { return shift(p[0], p[1]); }),
                          { weight: 2, color: "#0a4a85", fillOpacity: 0.05, interactive: false }).addTo(map);
    }
    var geometry = data.track && data.track.geometry;
    if (geometry && geometry.coordinates.length > 1) {
      var line = geometry.coordinates.map(function (c) { return shift(c[1], c[0]); });
      var track = L.polyline(line, { color: "#2f6fb0", weight: 4, opacity: 0.85 }).addTo(map);
      bounds.extend(track.getBounds());
      dot(line[0], "#2e8540", 6).bindTooltip(cfg.textStart).addTo(map);
      dot(line[line.length - 1], "#141414", 6).bindTooltip(cfg.textEnd).addTo(map);
      say("");
    } else {
      say(cfg.textNoTrack);
    }
    data.visits.forEach(function (v) {
      var at = shift(v.lat, v.lng);
      bounds.extend(at);
      dot(at, "#e6a800").bindTooltip(v.at + " " + v.kind + " · " + v.label).addTo(map);
    });
    data.cases.forEach(function (c) {
      var at = shift(c.lat, c.lng);
      bounds.extend(at);
      dot(at, "#c8102e", 8).bindTooltip(c.at + " " + c.number + " · " + c.category)
        .on("click", function () { window.location.href = cfg.caseUrl.replace("/0/", "/" + c.id + "/"); })
        .addTo(map);
    });
    if (bounds.isValid()) {
      map.fitBounds(bounds, { padding: [32, 32], maxZoom: 18 });
    } else if (outline) {
      map.fitBounds(outline.getBounds(), { padding: [12, 12] });
    } else {
      map.setView([35.0, 105.0], 4);
    }
  }

  say(cfg.textLoading);
  fetch(cfg.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (response) {
      if (!response.ok) { throw new Error(response.status); }
      return response.json();
    })
    .then(draw)
    .catch(function () { say(cfg.textFailed); map.setView([35.0, 105.0], 4); });
})();
