// A long job's page (web/job.html): while the job runs, ask for its status fragment every second and put it in
// place; stop once the fragment says the job is over (data-finished="true"), and let screen readers announce
// the outcome then (aria-busy). A failed request is retried after 5 s; a signed-out session (a redirect) stops.
// Without JavaScript the fragment offers a link to look again.
(function () {
  "use strict";
  var box = document.getElementById("job-status");
  if (!box || !window.fetch) return;
  var url = box.getAttribute("data-poll-url");
  if (!url) return;
  var EVERY_MS = 1000;

  function finished() {
    var state = box.querySelector("[data-finished]");
    return state && state.getAttribute("data-finished") === "true";
  }

  function poll() {
    fetch(url, {credentials: "same-origin", redirect: "manual", headers: {"Accept": "text/html"}})
      .then(function (response) {
        if (response.type === "opaqueredirect") return null;
        if (response.status !== 200) throw new Error("job poll: " + response.status);
        return response.text();
      })
      .then(function (html) {
        if (html === null) return;
        box.innerHTML = html;
        if (finished()) {
          box.setAttribute("aria-busy", "false");
          return;
        }
        window.setTimeout(poll, EVERY_MS);
      })
      .catch(function () { window.setTimeout(poll, 5 * EVERY_MS); });
  }

  if (!finished()) window.setTimeout(poll, EVERY_MS);
})();
