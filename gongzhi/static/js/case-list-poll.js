// 全部事件 (command/cases_list.html): while the tab is visible, ask every 15 s whether cases came in since the
// page was shown (204: none; JSON {count, message}: some) and then show "有N件新事件" with a link that reloads
// the list's first page. The table never moves under the user's mouse. Without JavaScript nothing polls.
(function () {
  "use strict";
  var notice = document.getElementById("new-cases");
  if (!notice || !window.fetch) return;
  var EVERY_MS = 15000;
  var url = notice.getAttribute("data-poll-url");
  var text = notice.querySelector(".new-cases-text");
  var link = notice.querySelector("a");
  var timer = null;
  var stopped = false;

  var first = new URL(window.location.href);
  first.searchParams.delete("page");
  link.href = first.toString();

  function schedule() {
    window.clearTimeout(timer);
    if (!stopped && document.visibilityState === "visible") timer = window.setTimeout(poll, EVERY_MS);
  }

  function poll() {
    // "manual": a signed-out session answers with a redirect to the login page, which ends the polling.
    fetch(url, {credentials: "same-origin", redirect: "manual", headers: {"Accept": "application/json"}})
      .then(function (response) {
        if (response.status === 204) return null;
        if (response.status !== 200) throw new Error("poll: " + response.status);
        return response.json();
      })
      .then(function (answer) {
        if (answer && answer.count > 0) {
          text.textContent = answer.message;
          notice.hidden = false;
        }
        schedule();
      })
      .catch(function () { stopped = true; });
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") {
      window.clearTimeout(timer);
      if (!stopped) poll();  // at once on coming back: the count may have changed while hidden
    } else {
      window.clearTimeout(timer);
    }
  });
  schedule();
})();
