// WGS84 → GCJ-02 (the "Mars" offset Chinese map tiles such as 高德's are drawn in), the public algorithm. Our data
// stays WGS84; a map on GCJ-02 tiles shifts what it draws with this, and only there. Outside China: unchanged.
(function () {
  "use strict";
  var A = 6378245.0;
  var EE = 0.00669342162296594323;

  function outsideChina(lat, lng) {
    return lng < 72.004 || lng > 137.8347 || lat < 0.8293 || lat > 55.8271;
  }

  function shiftLat(x, y) {
    var r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    r += (20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0 / 3.0;
    r += (20.0 * Math.sin(y * Math.PI) + 40.0 * Math.sin(y / 3.0 * Math.PI)) * 2.0 / 3.0;
    r += (160.0 * Math.sin(y / 12.0 * Math.PI) + 320 * Math.sin(y * Math.PI / 30.0)) * 2.0 / 3.0;
    return r;
  }

  function shiftLng(x, y) {
    var r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    r += (20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0 / 3.0;
    r += (20.0 * Math.sin(x * Math.PI) + 40.0 * Math.sin(x / 3.0 * Math.PI)) * 2.0 / 3.0;
    r += (150.0 * Math.sin(x / 12.0 * Math.PI) + 300.0 * Math.sin(x / 30.0 * Math.PI)) * 2.0 / 3.0;
    return r;
  }

  // [lat, lng] in WGS84 → [lat, lng] in GCJ-02.
  window.wgs84ToGcj02 = function (lat, lng) {
    if (outsideChina(lat, lng)) { return [lat, lng]; }
    var dLat = shiftLat(lng - 105.0, lat - 35.0);
    var dLng = shiftLng(lng - 105.0, lat - 35.0);
    var radLat = lat / 180.0 * Math.PI;
    var magic = 1 - EE * Math.sin(radLat) * Math.sin(radLat);
    var sqrtMagic = Math.sqrt(magic);
    dLat = (dLat * 180.0) / ((A * (1 - EE)) / (magic * sqrtMagic) * Math.PI);
    dLng = (dLng * 180.0) / (A / sqrtMagic * Math.cos(radLat) * Math.PI);
    return [lat + dLat, lng + dLng];
  };

  // [lat, lng] in GCJ-02 → [lat, lng] in WGS84: a point picked on GCJ-02 tiles, back to the data's system. The
  // offset changes slowly with place, so a few fixed-point steps bring the error under a millimetre.
  window.gcj02ToWgs84 = function (lat, lng) {
    var guess = [lat, lng];
    for (var i = 0; i < 4; i++) {
      var shifted = window.wgs84ToGcj02(guess[0], guess[1]);
      guess = [guess[0] + lat - shifted[0], guess[1] + lng - shifted[1]];
    }
    return guess;
  };
})();
