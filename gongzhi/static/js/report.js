// 我要说事: fill the hidden-by-default coordinates from the phone's location. The form works without this.
(function () {
  "use strict";
  var button = document.getElementById("locate-me");
  if (!button || !("geolocation" in navigator)) { return; }
  var status = document.getElementById("locate-status");
  var lat = document.getElementById("id_lat");
  var lng = document.getElementById("id_lng");
  var point = document.querySelector('input[name="where"][value="point"]');
  button.hidden = false;
  button.addEventListener("click", function () {
    status.textContent = button.dataset.locating;
    button.disabled = true;
    navigator.geolocation.getCurrentPosition(function (pos) {
      lat.value = pos.coords.latitude.toFixed(6);
      lng.value = pos.coords.longitude.toFixed(6);
      if (point) { point.checked = true; }
      status.textContent = button.dataset.located;
      button.disabled = false;
    }, function () {
      status.textContent = button.dataset.failed;
      button.disabled = false;
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  });
})();

// Record a voice note in the page (MediaRecorder) and put it into the voice file input; the plain file
// input stays for phones without it.
(function () {
  "use strict";
  var button = document.getElementById("record-voice");
  var input = document.getElementById("id_voice");
  if (!button || !input || !window.MediaRecorder || !window.DataTransfer ||
      !(navigator.mediaDevices && navigator.mediaDevices.getUserMedia)) { return; }
  var status = document.getElementById("record-status");
  var recorder = null;
  var chunks = [];
  button.hidden = false;
  button.addEventListener("click", function () {
    if (recorder && recorder.state === "recording") { recorder.stop(); return; }
    navigator.mediaDevices.getUserMedia({ audio: true }).then(function (stream) {
      chunks = [];
      recorder = new MediaRecorder(stream);
      recorder.addEventListener("dataavailable", function (event) { chunks.push(event.data); });
      recorder.addEventListener("stop", function () {
        stream.getTracks().forEach(function (track) { track.stop(); });
        var type = (recorder.mimeType || "audio/webm").split(";")[0];
        var extension = type.indexOf("mp4") >= 0 ? "m4a" : (type.indexOf("ogg") >= 0 ? "ogg" : "webm");
        var file = new File(chunks, "voice." + extension, { type: type });
        var transfer = new DataTransfer();
        transfer.items.add(file);
        input.files = transfer.files;
        button.textContent = button.dataset.start;
        status.textContent = button.dataset.done;
      });
      recorder.start();
      button.textContent = button.dataset.stop;
      status.textContent = "";
    }).catch(function () { status.textContent = button.dataset.failed; });
  });
})();
