// 我要说事: each chosen photo is shrunk on the phone (long side 1600 px, JPEG 0.8), uploaded at once with its
// own progress bar (retried when the signal drops), and only its token goes with the form, so a refused
// form keeps its photos. Without this script the file input goes with the form as before.
(function () {
  "use strict";
  var list = document.getElementById("photo-uploads");
  var input = document.getElementById("id_photos");
  if (!list || !input || !input.form || !window.FormData || !window.Promise || !window.Blob) { return; }
  var form = input.form;
  var text = list.dataset;
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]");
  var MAX = 9, SIDE = 1600, QUALITY = 0.8, TRIES = 5;
  var busy = 0, submitWhenDone = false;
  var hint = document.createElement("p");
  hint.className = "hint photo-hint";
  hint.setAttribute("role", "status");
  list.parentNode.insertBefore(hint, list.nextSibling);

  function kb(bytes) { return Math.round(bytes / 1024) + " KB"; }

  function decode(file) {
    if (window.createImageBitmap) { return createImageBitmap(file, { imageOrientation: "from-image" }); }
    return new Promise(function (resolve, reject) {
      var img = new Image();
      img.onload = function () { resolve(img); };
      img.onerror = reject;
      img.src = URL.createObjectURL(file);
    });
  }

  // The photo as a smaller JPEG, or the file itself when it cannot be decoded here (HEIC on most
  // browsers) or would not get smaller; the server decodes and checks it either way.
  function shrink(file) {
    return decode(file).then(function (image) {
      var scale = Math.min(1, SIDE / Math.max(image.width, image.height));
      var canvas = document.createElement("canvas");
      canvas.width = Math.max(1, Math.round(image.width * scale));
      canvas.height = Math.max(1, Math.round(image.height * scale));
      canvas.getContext("2d").drawImage(image, 0, 0, canvas.width, canvas.height);
      if (image.close) { image.close(); }
      return new Promise(function (resolve) {
        canvas.toBlob(function (blob) { resolve(blob && blob.size < file.size ? blob : file); }, "image/jpeg", QUALITY);
      });
    }).catch(function () { return file; });
  }

  function part(item, selector) { return item.querySelector(selector); }

  // Only photos that have their token go with the form.
  function keepFinished() {
    Array.prototype.forEach.call(list.querySelectorAll("input[name=photo_tokens]"), function (token) {
      token.disabled = !token.value;
    });
  }

  function settle() {
    busy -= 1;
    if (busy === 0 && submitWhenDone) { submitWhenDone = false; keepFinished(); form.submit(); }
  }

  function removable(item) {
    var button = part(item, ".photo-remove");
    if (!button.hidden) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      list.removeChild(item);
      input.disabled = false;
    });
  }

  function send(item, blob, attempt) {
    var xhr = new XMLHttpRequest();
    var bar = part(item, "progress");
    var body = new FormData();
    body.append("photo", blob, blob.name || "photo.jpg");
    xhr.open("POST", list.dataset.uploadUrl);
    xhr.setRequestHeader("X-CSRFToken", csrf ? csrf.value : "");
    xhr.timeout = 180000;
    xhr.upload.onprogress = function (event) {
      if (event.lengthComputable) { bar.max = event.total; bar.value = event.loaded; }
    };
    xhr.onload = function () {
      var answer = null;
      try { answer = JSON.parse(xhr.responseText); } catch (ignore) { answer = null; }
      if (xhr.status < 300 && answer && answer.token) {
        part(item, "input").value = answer.token;
        part(item, "img").src = answer.thumbnail_url;
        finish(item, text.done + " · " + kb(blob.size), false);
      } else if (xhr.status >= 400 && xhr.status < 500 && answer && answer.detail) {
        finish(item, answer.detail, true);  // refused: another try would be refused too
      } else {
        retry(item, blob, attempt);
      }
    };
    xhr.onerror = xhr.ontimeout = function () { retry(item, blob, attempt); };
    xhr.send(body);
  }

  function retry(item, blob, attempt) {
    if (attempt + 1 >= TRIES) {
      var again = part(item, ".photo-retry");
      again.hidden = false;
      again.onclick = function () {
        again.hidden = true;
        item.classList.remove("is-failed");
        item.classList.add("is-busy");
        busy += 1;
        part(item, "progress").hidden = false;
        part(item, ".photo-status").textContent = text.uploading;
        send(item, blob, 0);
      };
      finish(item, text.failed, true);
      return;
    }
    part(item, ".photo-status").textContent = text.retrying;
    var next = function () { send(item, blob, attempt + 1); };
    if (navigator.onLine === false) { window.addEventListener("online", next, { once: true }); }
    else { setTimeout(next, 1000 * Math.pow(2, attempt)); }
  }

  function finish(item, message, failed) {
    item.classList.remove("is-busy");
    item.classList.toggle("is-failed", failed);
    part(item, "progress").hidden = true;
    part(item, ".photo-status").textContent = message;
    removable(item);
    if (failed) { submitWhenDone = false; hint.textContent = ""; }
    settle();
  }

  function add(file) {
    var item = document.createElement("li");
    item.className = "photo-upload is-busy";
    item.innerHTML = '<img alt=""><progress max="1" value="0"></progress><span class="photo-status" role="status"></span>' +
      '<input type="hidden" name="photo_tokens"><button type="button" class="btn btn-secondary photo-retry" hidden></button>' +
      '<button type="button" class="btn btn-secondary photo-remove" hidden></button>';
    part(item, ".photo-retry").textContent = text.retry;
    part(item, ".photo-remove").textContent = text.remove;
    part(item, ".photo-status").textContent = text.shrinking;
    list.appendChild(item);
    busy += 1;
    shrink(file).then(function (blob) {
      part(item, "img").src = URL.createObjectURL(blob);
      item.dataset.originalSize = file.size;
      item.dataset.sentSize = blob.size;
      part(item, ".photo-status").textContent = text.uploading;
      send(item, blob, 0);
    });
  }

  Array.prototype.forEach.call(list.children, removable);
  input.addEventListener("change", function () {
    var files = Array.prototype.slice.call(input.files || []);
    input.value = "";  // sent one by one, not again with the form
    hint.textContent = "";
    files.forEach(function (file) {
      if (list.children.length >= MAX) { hint.textContent = text.tooMany; return; }
      add(file);
    });
    input.disabled = list.children.length >= MAX;
  });
  form.addEventListener("submit", function (event) {
    // The form waits for photos still on their way, then goes by itself; failed ones stay behind.
    keepFinished();
    if (busy > 0) {
      event.preventDefault();
      submitWhenDone = true;
      hint.textContent = text.wait;
    }
  });
})();
