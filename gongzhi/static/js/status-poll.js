// A status that changes while a page is open (a long job's progress, web/job.html; an urgent alert's texts,
// web/publications/kinds/alert.html): every element with data-poll-url asks for its fragment every
// data-poll-every ms (1000 by default) and puts it in place; it stops once the fragment says it is over
// (data-finished="true"), and lets screen readers announce the outcome then (aria-busy). A failed request is
// retried after five intervals; a signed-out session (a redirect) stops. Without JavaScript the fragment offers
// a link to look again.
(function () {
  "use strict";
  if (!window.fetch) return;

  function watch(box) {
    var url = box.getAttribute("data-poll-url");
    var every = parseInt(box.getAttribute("data-poll-every") || "1000", 10);

    function finished() {
      var state = box.querySelector("[data-finished]");
      return state && state.getAttribute("data-finished") === "true";
    }

    function poll() {
      fetch(url, {credentials: "same-origin", redirect: "manual", headers: {"Accept": "text/html"}})
        .then(function (response) {
          if (response.type === "opaqueredirect") return null;
          if (response.status !== 200) throw new Error("status poll: " + response.status);
          return response.text();
        })
        .then(function (html) {
          if (html === null) return;
          box.innerHTML = html;
          if (finished()) {
            box.setAttribute("aria-busy", "false");
            return;
          }
          window.setTimeout(poll, every);
        })
        .catch(function () { window.setTimeout(poll, 5 * every); });
    }

    if (!finished()) window.setTimeout(poll, every);
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-poll-url]"), watch);
})();
