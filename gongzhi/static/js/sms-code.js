/* The "获取验证码" button of the sign-up and login pages (resident/_phone_with_code_button.html), loaded only
   there. Without this file the button posts the whole form and the page comes back with a notice; with it
   only the notice is fetched (the view answers the X-Fragment request with resident/_sms_status.html) and put
   in place, and the button waits out the resend interval the server announced. */
(function () {
  "use strict";
  var status = document.getElementById("sms-status");
  var button = document.querySelector("[data-sms-button]");
  var form = button && button.form;
  if (!status || !form) { return; }

  function startResendCountdown() {
    var notice = status.querySelector("[data-resend-after]");
    if (!notice || button.dataset.counting) { return; }
    var left = parseInt(notice.dataset.resendAfter, 10) || 0;
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

  // What the button does without this file: the whole form, posted with action=send_code.
  function submitWholeForm() {
    var action = document.createElement("input");
    action.type = "hidden";
    action.name = button.name;
    action.value = button.value;
    form.appendChild(action);
    HTMLFormElement.prototype.submit.call(form);
  }

  startResendCountdown();  // a page that came back from the plain post
  if (!window.fetch || !window.FormData) { return; }
  button.addEventListener("click", function (event) {
    event.preventDefault();
    var body = new FormData(form);
    body.set(button.name, button.value);
    button.disabled = true;
    // Not form.action nor form.submit: the form's buttons are named "action", which hides the property.
    fetch(form.getAttribute("action") || window.location.href, { method: "POST", body: body, credentials: "same-origin",
                         headers: { "X-Fragment": "sms-status" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("send_code " + response.status); }
        return response.text();
      })
      .then(function (html) {
        button.disabled = false;
        status.innerHTML = html;
        startResendCountdown();
      })
      .catch(function () {
        button.disabled = false;
        submitWholeForm();  // the server's own page says what went wrong
      });
  });
})();
