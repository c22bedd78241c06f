// An urgent alert's staff page (web/publications/kinds/alert.html): while its texts go out, ask for the counts
// fragment every 2 s and put it in place; stop once the fragment says sending is over (data-finished="true").
// A failed request is retried after 10 s; a signed-out session (a redirect) stops. Without JavaScript the
// fragment offers a link to look again.
(function () {
  "use strict";
  var box = document.getElementById("alert-delivery");
  if (!box || !window.fetch) return;
  var url = box.getAttribute("data-poll-url");
  if (!url) return;
  var EVERY_MS = 2000;

  function finished() {
    var state = box.querySelector("[data-finished]");
    return state && state.getAttribute("data-finished") === "true";
  }

  function poll() {
    fetch(url, {credentials: "same-origin", redirect: "manual", headers: {"Accept": "text/html"}})
      .then(function (response) {
        if (response.type === "opaqueredirect") return null;
        if (response.status !== 200) throw new Error("alert poll: " + response.status);
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
