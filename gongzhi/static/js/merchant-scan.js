/* 扫码核销 on the merchant's shop page (resident/merchant/desk.html), loaded only there.

   Without this file (or without a camera) the page's two forms post as plain pages: the 6-digit code, and the
   token a scanner gun types or a merchant pastes. With it, the 扫码核销 button opens the rear camera and reads QR
   codes from the video: with the browser's BarcodeDetector where it reads QR codes, else with the vendored jsQR
   (static/vendor/jsqr/), loaded only then, from frames drawn on a canvas a few times a second (cheap phones).
   The first code read stops the camera and is posted like the token form, answered in JSON; the result is shown
   big (领取成功 with what to hand over, or the refusal in red) and 继续扫码 opens the camera again.
   Every text shown comes from the page (data-msg-* attributes and <template>s), so it is translated there. */
(function () {
  "use strict";
  var root = document.querySelector("[data-merchant-scan]");
  if (!root) { return; }
  var startButton = root.querySelector("[data-scan-start]");
  var againButton = root.querySelector("[data-scan-again]");
  var stopButton = root.querySelector("[data-scan-stop]");
  var view = root.querySelector("[data-scan-view]");
  var video = root.querySelector("[data-scan-video]");
  var status = root.querySelector("[data-scan-status]");
  var problem = root.querySelector("[data-scan-problem]");
  var result = document.getElementById("capture-result");
  var tokenForm = document.getElementById("token-form");
  var media = navigator.mediaDevices;
  // No camera API (an old browser, or a page not served over HTTPS): the forms are all there is.
  if (!media || !media.getUserMedia || !window.fetch || !window.FormData || !window.Promise || !tokenForm) { return; }

  var FRAME_INTERVAL_MS = 200;  // 5 reads a second: quick enough at a counter, light on a cheap phone
  var CANVAS_MAX = 640;         // frames are scaled down to this width before jsQR reads them
  var stream = null;
  var running = false;
  var decode = null;            // function () → Promise of the text read from the current frame, or null
  var timer = null;

  function say(text) { status.textContent = text || ""; }

  function show(node) {  // the result area holds one answer at a time (replaceChildren is too new for some phones)
    while (result.firstChild) { result.removeChild(result.firstChild); }
    if (node) { result.appendChild(node); }
  }

  function showProblem(text) {
    problem.textContent = text;
    problem.hidden = false;
  }

  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = src;
      script.onload = resolve;
      script.onerror = reject;
      document.head.appendChild(script);
    });
  }

  function jsQRDecoder() {
    var load = window.jsQR ? Promise.resolve() : loadScript(root.dataset.jsqrSrc);
    return load.then(function () {
      var canvas = document.createElement("canvas");
      var context = canvas.getContext("2d", { willReadFrequently: true });
      return function () {
        var width = video.videoWidth;
        var height = video.videoHeight;
        if (!width || !height) { return Promise.resolve(null); }
        var scale = Math.min(1, CANVAS_MAX / width);
        canvas.width = Math.round(width * scale);
        canvas.height = Math.round(height * scale);
        context.drawImage(video, 0, 0, canvas.width, canvas.height);
        var image = context.getImageData(0, 0, canvas.width, canvas.height);
        var code = window.jsQR(image.data, image.width, image.height, { inversionAttempts: "attemptBoth" });
        return Promise.resolve(code && code.data ? code.data : null);
      };
    });
  }

  // The browser's own reader where it knows QR codes (Android Chrome, Safari…), else jsQR.
  function makeDecoder() {
    if (decode) { return Promise.resolve(decode); }
    var native = "BarcodeDetector" in window
      ? Promise.resolve(window.BarcodeDetector.getSupportedFormats ? window.BarcodeDetector.getSupportedFormats() : [])
        .then(function (formats) {
          if (formats.indexOf("qr_code") < 0) { return null; }
          var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
          return function () {
            return detector.detect(video).then(function (codes) {
              return codes.length ? codes[0].rawValue : null;
            });
          };
        })
        .catch(function () { return null; })
      : Promise.resolve(null);
    return native.then(function (found) { return found || jsQRDecoder(); })
      .then(function (found) { decode = found; return found; });
  }

  function stopCamera() {
    running = false;
    window.clearTimeout(timer);
    if (stream) {
      stream.getTracks().forEach(function (track) { track.stop(); });
      stream = null;
    }
    video.srcObject = null;
    view.hidden = true;
  }

  function scanLater() {
    timer = window.setTimeout(scanFrame, FRAME_INTERVAL_MS);
  }

  function scanFrame() {
    if (!running) { return; }
    if (video.readyState < 2) { scanLater(); return; }  // no frame yet
    decode().then(function (text) {
      if (!running) { return; }
      if (text) { found(text); } else { scanLater(); }
    }).catch(scanLater);
  }

  function startCamera() {
    problem.hidden = true;
    startButton.hidden = true;
    againButton.hidden = true;
    show(null);
    view.hidden = false;
    say(root.dataset.msgLoading);
    media.getUserMedia({ video: { facingMode: { ideal: "environment" } }, audio: false })
      .then(function (camera) {
        stream = camera;
        video.srcObject = camera;
        return Promise.all([video.play(), makeDecoder()]);
      })
      .then(function () {
        running = true;
        say(root.dataset.msgAim);
        scanFrame();
      })
      .catch(function (error) {
        stopCamera();
        startButton.hidden = false;
        var denied = error && (error.name === "NotAllowedError" || error.name === "SecurityError");
        showProblem(denied ? root.dataset.msgDenied : root.dataset.msgNoCamera);
        var code = document.getElementById("id_code");
        if (code) { code.focus(); }
      });
  }

  function fill(fragment, values) {
    Object.keys(values).forEach(function (name) {
      fragment.querySelectorAll('[data-slot="' + name + '"]').forEach(function (slot) {
        slot.textContent = String(values[name]);
      });
    });
    return fragment;
  }

  function fromTemplate(id, values) {
    return fill(document.getElementById(id).content.cloneNode(true), values);
  }

  function showAnswer(answer) {
    if (answer.ok) {
      show(fromTemplate("pickup-result-template", answer));
      var list = document.getElementById("pickup-list");
      list.insertBefore(fromTemplate("pickup-row-template", answer), list.firstChild);
      var empty = root.querySelector("[data-pickups-empty]");
      if (empty) { empty.hidden = true; }
      var today = root.querySelector("[data-today]");
      today.textContent = String((parseInt(today.textContent, 10) || 0) + 1);
      root.querySelector("[data-waiting]").textContent = String(answer.waiting);
    } else {
      show(fromTemplate("refusal-template", { message: answer.message }));
    }
  }

  function found(text) {
    stopCamera();
    say(root.dataset.msgSending);
    var body = new FormData(tokenForm);
    body.set("token", text);
    fetch(root.dataset.captureUrl, { method: "POST", body: body, credentials: "same-origin",
                                     headers: { "Accept": "application/json" } })
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (type.indexOf("application/json") < 0) { throw new Error("capture " + response.status); }
        return response.json();
      })
      .then(showAnswer)
      .catch(function () {
        show(fromTemplate("refusal-template", { message: root.dataset.msgNetwork }));
      })
      .then(function () {
        say("");
        againButton.hidden = false;
        againButton.focus();
      });
  }

  startButton.hidden = false;
  startButton.addEventListener("click", startCamera);
  againButton.addEventListener("click", startCamera);
  stopButton.addEventListener("click", function () {
    stopCamera();
    startButton.hidden = false;
  });
  // Leaving the page (or a phone locking its screen) lets the camera go.
  window.addEventListener("pagehide", stopCamera);
  document.addEventListener("visibilitychange", function () {
    if (document.hidden && running) {
      stopCamera();
      startButton.hidden = false;
    }
  });
})();
