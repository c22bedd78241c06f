// 巡查 (worker/fieldwork/patrol.html): while the patrol page is open, keep the phone's position every N seconds
// (data-interval), buffer the points in localStorage under the patrol's id, so a reload or a weak signal loses
// nothing, and post them in batches (data-batch at most) to the track endpoint with the CSRF token, retrying
// with a growing pause. Shows the time since the start, the distance and points the server has, and
// "待上传 n 个点". 结束巡查 first sends what is left (for a few seconds at most: gaps are fine). Points left in
// the phone from an earlier patrol are sent to it once, then forgotten.
// Visit forms (form[data-locate]) get the phone's position in their hidden lat/lng fields, when it may locate.
(function () {
  "use strict";
  var PREFIX = "gongzhi.patrol.";

  function locateForms() {
    var forms = document.querySelectorAll("form[data-locate]");
    if (!forms.length || !navigator.geolocation) { return; }
    navigator.geolocation.getCurrentPosition(function (position) {
      forms.forEach(function (form) {
        var lat = form.querySelector("input[name=lat]");
        var lng = form.querySelector("input[name=lng]");
        if (lat && lng && !lat.value) {
          lat.value = position.coords.latitude.toFixed(6);
          lng.value = position.coords.longitude.toFixed(6);
        }
      });
    }, function () { /* no position: the visit is recorded without one */ },
    { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 });
  }

  locateForms();
  var box = document.getElementById("patrol-live");
  if (!box || !window.fetch || !window.JSON) { return; }
  var cfg = box.dataset;
  var patrolId = cfg.patrol;
  var key = PREFIX + patrolId;
  var interval = Math.max(1, parseInt(cfg.interval, 10) || 15) * 1000;
  var batchSize = Math.max(1, parseInt(cfg.batch, 10) || 100);
  // The phone's clock may be off: points carry the server's time (the page says what it was when rendered).
  var offset = (parseInt(cfg.serverNow, 10) || Date.now()) - Date.now();
  var startedAt = (parseInt(cfg.startedAt, 10) || 0) * 1000;
  var statusEl = box.querySelector("[data-status]");
  var pendingEl = box.querySelector("[data-pending]");
  var elapsedEl = box.querySelector("[data-elapsed]");
  var distanceEl = box.querySelector("[data-distance]");
  var pointsEl = box.querySelector("[data-points]");
  var endForm = document.getElementById("patrol-end");
  var tokenInput = document.querySelector("input[name=csrfmiddlewaretoken]");
  var csrf = tokenInput ? tokenInput.value : "";
  var lastKept = 0;
  var sending = false;
  var failures = 0;
  var retryAt = 0;
  var ended = false;

  function storage() {
    try { return window.localStorage; } catch (e) { return null; }
  }

  function load(name) {
    var store = storage();
    if (!store) { return []; }
    try { return JSON.parse(store.getItem(name) || "[]") || []; } catch (e) { return []; }
  }

  function save(name, points) {
    var store = storage();
    if (!store) { return; }
    try {
      if (points.length) { store.setItem(name, JSON.stringify(points)); } else { store.removeItem(name); }
    } catch (e) { /* storage full: the points stay in memory for this page */ }
  }

  var buffer = load(key);
  if (buffer.length) { lastKept = buffer[buffer.length - 1].at; }

  function say(text) { if (statusEl) { statusEl.textContent = text; } }

  function showPending() {
    if (!pendingEl) { return; }
    pendingEl.hidden = false;
    pendingEl.textContent = buffer.length ? cfg.textPending.replace("{n}", buffer.length) : cfg.textSynced;
  }

  function showFigures(data) {
    if (distanceEl && typeof data.distance_m === "number") {
      distanceEl.textContent = data.distance_m >= 1000
        ? cfg.textKm.replace("{n}", (data.distance_m / 1000).toFixed(1))
        : cfg.textMetres.replace("{n}", data.distance_m);
    }
    if (pointsEl && typeof data.point_count === "number") { pointsEl.textContent = data.point_count; }
  }

  function tick() {
    if (!elapsedEl || !startedAt) { return; }
    var minutes = Math.max(0, Math.floor((Date.now() + offset - startedAt) / 60000));
    var text = Math.floor(minutes / 60) + ":" + ("0" + (minutes % 60)).slice(-2);
    if (elapsedEl.textContent !== text) { elapsedEl.textContent = text; }
  }

  function post(url, points) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, Accept: "application/json" },
      body: JSON.stringify({ points: points })
    });
  }

  // Sends the oldest batch; resolves true when the buffer may be tried again at once.
  function flush() {
    if (sending || ended || !buffer.length || Date.now() < retryAt) { return Promise.resolve(false); }
    sending = true;
    var batch = buffer.slice(0, batchSize);
    var sent = {};
    batch.forEach(function (p) { sent[p.at] = true; });
    function drop() {
      buffer = buffer.filter(function (p) { return !sent[p.at]; });
      save(key, buffer);
    }
    return post(cfg.pointsUrl, batch).then(function (response) {
      if (response.ok) {
        drop();
        failures = 0;
        return response.json().then(function (data) { showFigures(data); return true; });
      }
      if (response.status === 409 || response.status === 404) {  // ended, or not this worker's any more
        ended = true;
        buffer = [];
        save(key, buffer);
        say(cfg.textEnded);
        return false;
      }
      if (response.status === 400) { drop(); return true; }  // a batch the server will never take
      throw new Error(String(response.status));  // busy (429, 503) or failing: later
    }).catch(function () {
      failures += 1;
      retryAt = Date.now() + Math.min(120000, 2000 * Math.pow(2, Math.min(failures, 6)));
      say(cfg.textOffline);
      return false;
    }).then(function (again) {
      sending = false;
      showPending();
      return again;
    });
  }

  function flushAll(deadline) {
    return flush().then(function (again) {
      if (again && buffer.length && Date.now() < deadline) { return flushAll(deadline); }
    });
  }

  // Points an earlier patrol left on this phone (the page was closed on a weak signal): sent once, then forgotten.
  function sendLeftovers() {
    var store = storage();
    if (!store) { return; }
    for (var i = store.length - 1; i >= 0; i--) {
      var name = store.key(i);
      if (!name || name.indexOf(PREFIX) !== 0 || name === key) { continue; }
      var id = name.slice(PREFIX.length);
      var points = load(name).slice(0, batchSize);
      store.removeItem(name);
      if (points.length && /^\d+$/.test(id)) {
        post(cfg.pointsUrl.replace("/" + patrolId + "/", "/" + id + "/"), points).catch(function () {});
      }
    }
  }

  function keep(position) {
    var at = Math.round(position.timestamp + offset);
    var accuracy = Math.round(position.coords.accuracy);
    say(cfg.textLocated.replace("{m}", accuracy));
    if (ended || at - lastKept < interval - 500) { return; }
    lastKept = at;
    buffer.push({ at: at, lat: +position.coords.latitude.toFixed(6), lng: +position.coords.longitude.toFixed(6),
                  accuracy: accuracy });
    save(key, buffer);
    showPending();
    if (buffer.length >= batchSize) { flush(); }
  }

  function failed(error) {
    say(error && error.code === 1 ? cfg.textDenied : cfg.textUnavailable);
  }

  if (navigator.geolocation) {
    say(cfg.textLocating);
    navigator.geolocation.watchPosition(keep, failed, { enableHighAccuracy: true, maximumAge: 5000, timeout: 60000 });
  } else {
    say(cfg.textNoGps);
  }

  // Keep the screen on while patrolling, where the phone allows it (the page must stay open to record).
  var lock = null;
  function wake() {
    if (navigator.wakeLock && document.visibilityState === "visible") {
      navigator.wakeLock.request("screen").then(function (l) { lock = l; }).catch(function () {});
    }
  }
  wake();
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { wake(); flush(); }
  });
  window.addEventListener("online", function () { retryAt = 0; flush(); });

  if (endForm) {
    var submitting = false;
    endForm.addEventListener("submit", function (event) {
      if (submitting || !buffer.length || ended) { return; }
      event.preventDefault();
      submitting = true;
      say(endForm.dataset.flushing);
      retryAt = 0;
      var button = endForm.querySelector("button[type=submit]");
      if (button) { button.disabled = true; }
      flushAll(Date.now() + 8000).then(function () {
        if (lock) { lock.release().catch(function () {}); }
        if (button) { button.disabled = false; }
        endForm.submit();
      });
    });
  }

  showPending();
  tick();
  sendLeftovers();
  setInterval(tick, 1000);
  setInterval(flush, interval);
  flush();
})();
