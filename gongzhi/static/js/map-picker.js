// 我要说事: a third 事发位置 choice, "pick the point on a map". It exists only when this script runs; it
// submits as where=point with the picked coordinates in the ordinary lat/lng fields, which the server checks,
// so without JavaScript the other choices work as before. Leaflet and the grids (GET /api/org/report-area)
// are loaded only when the choice is taken. The texts come from the container's data-* attributes.
// On GCJ-02 tiles (高德, 腾讯) the WGS84 grids are shifted to be drawn where the tiles show them, and a point
// picked on the tiles is shifted back: the fields, like all our data, hold WGS84.
(function () {
  "use strict";
  var box = document.getElementById("map-picker");
  var fieldset = box && box.closest("fieldset");
  var lat = document.getElementById("id_lat");
  var lng = document.getElementById("id_lng");
  if (!box || !fieldset || !lat || !lng || !window.fetch || !window.Promise) { return; }
  var text = box.dataset;
  var canvas = box.querySelector(".map-picker-canvas");
  var status = box.querySelector(".map-picker-status");
  var map = null;
  var marker = null;
  var loading = null;
  var toMap = function (lat, lng) { return [lat, lng]; };  // WGS84 → the tiles' system
  var fromMap = toMap;  // … and back

  // The radio, after the server's choices; same name and value as "my position", so a pick submits as a point.
  var choices = fieldset.querySelectorAll(".check");
  var row = document.createElement("div");
  row.className = "check";
  var radio = document.createElement("input");
  radio.type = "radio";
  radio.name = "where";
  radio.value = "point";
  radio.id = "id_where_map";
  var label = document.createElement("label");
  label.htmlFor = radio.id;
  label.textContent = text.choice;
  row.appendChild(radio);
  row.appendChild(label);
  choices[choices.length - 1].after(row);

  function say(message) { status.textContent = message || ""; }

  function loadOnce(tag, attrs) {
    return new Promise(function (resolve, reject) {
      var el = document.createElement(tag);
      Object.keys(attrs).forEach(function (key) { el[key] = attrs[key]; });
      el.onload = resolve;
      el.onerror = reject;
      document.head.appendChild(el);
    });
  }

  function loadLeaflet() {
    if (window.L) { return Promise.resolve(); }
    return Promise.all([loadOnce("link", { rel: "stylesheet", href: text.leafletCss }),
                        loadOnce("script", { src: text.leafletJs })]);
  }

  function loadShift(basemap) {
    if (!basemap || basemap.crs !== "gcj02") { return Promise.resolve(); }
    var ready = window.wgs84ToGcj02 ? Promise.resolve() : loadOnce("script", { src: text.gcj02Js });
    return ready.then(function () {
      toMap = window.wgs84ToGcj02;
      fromMap = window.gcj02ToWgs84;
    });
  }

  function loadArea() {
    return fetch(text.areaUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("report-area " + response.status); }
        return response.json();
      });
  }

  function pick(latlng, gridName) {
    var point = fromMap(latlng.lat, latlng.lng);
    lat.value = point[0].toFixed(6);
    lng.value = point[1].toFixed(6);
    radio.checked = true;
    if (marker) { marker.setLatLng(latlng); } else { marker = window.L.marker(latlng, { keyboard: false }).addTo(map); }
    say(gridName ? text.pickedIn.replace("{grid}", gridName) : text.picked);
  }

  function draw(area) {
    var L = window.L;
    L.Icon.Default.imagePath = text.leafletImages;
    map = L.map(canvas, { zoomSnap: 0.25, tapTolerance: 20 });
    map.attributionControl.setPrefix("Leaflet");  // the plain name; the LICENSE file ships with the library
    if (area.basemap) {
      L.tileLayer(area.basemap.url, { attribution: area.basemap.attribution, subdomains: area.basemap.subdomains,
                                      maxZoom: 19 }).addTo(map);
    }
    var grids = L.geoJSON(area, {
      coordsToLatLng: function (coords) { return L.latLng(toMap(coords[1], coords[0])); },
      style: function (feature) {
        return feature.properties.own
          ? { className: "map-grid map-grid-own", weight: 3, fillOpacity: 0.25 }
          : { className: "map-grid", weight: 1.5, fillOpacity: 0.08 };
      },
      bubblingMouseEvents: false,
      onEachFeature: function (feature, layer) {
        layer.bindTooltip(feature.properties.name, { permanent: true, direction: "center", className: "map-grid-label" });
        layer.on("click", function (event) { pick(event.latlng, feature.properties.name); });
      }
    }).addTo(map);
    map.on("click", function (event) { pick(event.latlng, null); });
    var own = grids.getLayers().filter(function (layer) { return layer.feature.properties.own; });
    var focus = own.length ? L.featureGroup(own) : grids;
    if (focus.getLayers().length) {
      map.fitBounds(focus.getBounds(), { padding: [24, 24] });
    } else {  // a basemap but no grid of the user's: start from China as a whole
      map.setView([35, 105], 4);
    }
    if (lat.value && lng.value && isFinite(+lat.value) && isFinite(+lng.value)) {
      marker = L.marker(toMap(+lat.value, +lng.value), { keyboard: false }).addTo(map);
    }
    say(text.hint);
  }

  function open() {
    box.hidden = false;
    if (map) { map.invalidateSize(); return; }
    if (loading) { return; }
    say(text.loading);
    loading = Promise.all([loadLeaflet(), loadArea()]).then(function (results) {
      return loadShift(results[1].basemap).then(function () { return results[1]; });
    }).then(function (area) {
      if (!area.features.length && !area.basemap) {
        canvas.hidden = true;
        say(text.empty);
        return;
      }
      draw(area);
    }).catch(function () {
      loading = null;
      say(text.failed);
    });
  }

  fieldset.addEventListener("change", function (event) {
    if (event.target.name !== "where") { return; }
    if (radio.checked) { open(); } else { box.hidden = true; }
  });
})();
