// The case page's place (web/_case_body.html): the case's point and its grid's outline on a small map. Leaflet is
// fetched only when the map is wanted: in the command centre once the section scrolls into view, on the worker
// portal's phones when 在地图上查看 is tapped (its pages must stay small on a weak signal). Data: data-place.
(function () {
  "use strict";
  var box = document.getElementById("case-map");
  var button = document.getElementById("case-map-show");
  if (!box || !button || !window.fetch || !window.Promise) { return; }
  var place = JSON.parse(box.dataset.place);
  var started = false;

  function load(tag, attrs) {
    return new Promise(function (resolve, reject) {
      var el = document.createElement(tag);
      Object.keys(attrs).forEach(function (key) { el[key] = attrs[key]; });
      el.onload = resolve;
      el.onerror = reject;
      document.head.appendChild(el);
    });
  }

  function draw() {
    var L = window.L;
    var tiles = place.tiles;
    var shift = tiles.crs === "gcj02" ? window.wgs84ToGcj02 : function (lat, lng) { return [lat, lng]; };
    var map = L.map(box, { zoomSnap: 0.25, maxZoom: 18 });
    map.attributionControl.setPrefix("Leaflet");
    if (tiles.url) {
      L.tileLayer(tiles.url, { attribution: tiles.attribution, subdomains: tiles.subdomains, maxZoom: 18 }).addTo(map);
    }
    var point = shift(place.point[0], place.point[1]);
    if (place.outline) {
      var outline = L.polygon(place.outline.map(function (p) { return shift(p[0], p[1]); }),
                              { weight: 2, color: "#0a4a85", fillOpacity: 0.08, interactive: false }).addTo(map);
      map.fitBounds(outline.getBounds().extend(point), { padding: [12, 12] });
    } else {
      map.setView(point, 16);
    }
    L.circleMarker(point, { radius: 8, weight: 2, color: "#ffffff", fillColor: "#c8102e", fillOpacity: 1,
                            interactive: false }).addTo(map);
  }

  function show() {
    if (started) { return; }
    started = true;
    button.hidden = true;
    box.hidden = false;
    var scripts = window.L ? Promise.resolve() : Promise.all([
      load("link", { rel: "stylesheet", href: box.dataset.leafletCss }),
      load("script", { src: box.dataset.leafletJs })]);
    var shiftScript = place.tiles.crs === "gcj02" && !window.wgs84ToGcj02
      ? load("script", { src: box.dataset.gcj02Js }) : Promise.resolve();
    Promise.all([scripts, shiftScript]).then(draw).catch(function () {
      box.hidden = true;
      started = false;
      button.hidden = false;
    });
  }

  button.addEventListener("click", show);
  if (box.dataset.auto && window.IntersectionObserver) {
    new IntersectionObserver(function (entries, observer) {
      if (entries.some(function (entry) { return entry.isIntersecting; })) {
        observer.disconnect();
        show();
      }
    }).observe(box.parentNode);
  } else {
    button.hidden = false;
  }
})();
