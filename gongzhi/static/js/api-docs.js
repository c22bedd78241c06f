// /api/docs: starts the vendored Swagger UI with the settings the page carries as JSON (gongzhi/api/docs.py).
// A file of its own because the site's Content-Security-Policy allows no inline script.
(function () {
  "use strict";
  var settings = JSON.parse(document.getElementById("swagger-settings").textContent);
  settings.dom_id = "#swagger-ui";
  settings.presets = [SwaggerUIBundle.presets.apis];
  // "Try it out" on a write: the session's CSRF token, as the API asks of every signed-in unsafe request.
  var csrfToken = document.body.dataset.csrfToken;
  settings.requestInterceptor = function (request) {
    if (csrfToken) {
      request.headers["X-CSRFToken"] = csrfToken;
    }
    return request;
  };
  window.ui = SwaggerUIBundle(settings);
})();
