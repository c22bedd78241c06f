/* Progressive enhancement only: every page works without this file. */
(function () {
  "use strict";

  // After a code was sent, the "获取验证码" button waits out the resend interval the server announced.
  function startResendCountdown(root) {
    var status = root.querySelector("[data-resend-after]");
    var form = status && status.closest("form");
    var button = form && form.querySelector("[data-sms-button]");
    if (!button || button.dataset.counting) return;
    var left = parseInt(status.dataset.resendAfter, 10) || 0;
    var label = button.textContent;
    var waitLabel = button.dataset.waitLabel || "{n}";
    button.dataset.counting = "1";
    button.disabled = true;
    (function tick() {
      if (left <= 0) {
        button.disabled = false;
        button.textContent = label;
        delete button.dataset.counting;
        return;
      }
      button.textContent = waitLabel.replace("{n}", String(left));
      left -= 1;
      window.setTimeout(tick, 1000);
    })();
  }

  document.addEventListener("DOMContentLoaded", function () { startResendCountdown(document); });
  document.addEventListener("htmx:afterSwap", function (event) { startResendCountdown(event.target); });
})();
